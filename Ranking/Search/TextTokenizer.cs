namespace Ranking.Search;

/// <summary>
/// Turns catalog text and search queries into index terms: lower-cased runs of letters and digits, without a small
/// list of English stop words, reduced by a light suffix stemmer (<see cref="Stem"/>). Index and query go through the
/// same steps, so a stem only has to be consistent, not a real word ("hiking" and "hike" stay apart).
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class TextTokenizer
{
    // Articles, prepositions, conjunctions and auxiliaries: frequent in descriptions, useless for matching.
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if", "in", "into",
        "is", "it", "its", "no", "not", "of", "on", "or", "so", "such", "than", "that", "the", "their", "then",
        "there", "these", "they", "this", "to", "was", "were", "will", "with", "your", "you",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> StopLookup = StopWords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Appends the terms of <paramref name="text"/> to <paramref name="terms"/>, in text order, repeats kept.
    /// Null, empty or punctuation-only text appends nothing.
    /// </summary>
    public static void Tokenize(string? text, List<string> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        Span<char> buffer = stackalloc char[64];
        var span = text.AsSpan();
        var i = 0;
        while (i < span.Length)
        {
            while (i < span.Length && !char.IsLetterOrDigit(span[i]))
            {
                i++;
            }

            var start = i;
            while (i < span.Length && char.IsLetterOrDigit(span[i]))
            {
                i++;
            }

            if (i == start)
            {
                break;
            }

            var word = span[start..i];
            var lower = word.Length <= buffer.Length ? buffer[..word.Length] : new char[word.Length];
            word.ToLowerInvariant(lower);
            if (StopLookup.Contains(lower))
            {
                continue;
            }

            terms.Add(StemSpan(lower));
        }
    }

    /// <summary>The terms of <paramref name="text"/>, as <see cref="Tokenize(string?, List{string})"/> lists them.</summary>
    public static List<string> Tokenize(string? text)
    {
        var terms = new List<string>();
        Tokenize(text, terms);
        return terms;
    }

    /// <summary>Whether the lower-case word is on the stop list.</summary>
    public static bool IsStopWord(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return StopWords.Contains(word);
    }

    /// <summary>
    /// Strips one suffix from a lower-case word of letters: plurals ("batteries" → "battery", "glasses" → "glass",
    /// "boxes" → "box", "boots" → "boot"), then "ing" and "ed" when at least three letters with a vowel remain
    /// ("running" → "run", "heated" → "heat", but "string" and "speed" stay). A doubled final consonant left by
    /// "ing"/"ed" is undoubled ("padded" → "pad"), except ll, ss and zz. Words of three letters or fewer, and words
    /// with a digit or another non-letter, come back as they are.
    /// </summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return StemSpan(word.AsSpan());
    }

    private static string StemSpan(ReadOnlySpan<char> word)
    {
        if (word.Length <= 3 || !IsLetters(word))
        {
            return word.ToString();
        }

        // Plurals.
        if (word.EndsWith("ies") && word.Length > 4)
        {
            return string.Concat(word[..^3], "y");
        }

        if (word.EndsWith("sses"))
        {
            return word[..^2].ToString();
        }

        if (word.EndsWith("es") && (word.EndsWith("xes") || word.EndsWith("zes") || word.EndsWith("ches") || word.EndsWith("shes")))
        {
            return word[..^2].ToString();
        }

        if (word[^1] == 's' && !word.EndsWith("ss") && !word.EndsWith("us") && !word.EndsWith("is"))
        {
            return word[..^1].ToString();
        }

        // Verb endings: only when a real stem (three letters, one a vowel) remains.
        if (word.EndsWith("ing") && IsStem(word[..^3]))
        {
            return Undouble(word[..^3]);
        }

        if (word.EndsWith("ed") && !word.EndsWith("eed") && IsStem(word[..^2]))
        {
            return Undouble(word[..^2]);
        }

        return word.ToString();
    }

    private static bool IsLetters(ReadOnlySpan<char> word)
    {
        foreach (var c in word)
        {
            if (!char.IsLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsStem(ReadOnlySpan<char> stem) => stem.Length >= 3 && stem.IndexOfAny("aeiouy") >= 0;

    private static string Undouble(ReadOnlySpan<char> stem)
    {
        var last = stem[^1];
        return last == stem[^2] && !IsVowel(last) && last is not ('l' or 's' or 'z') ? stem[..^1].ToString() : stem.ToString();
    }

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u';
}
