using System.Globalization;
using System.Text;

namespace Ranking.Import.Datasets;

/// <summary>Span-level parsing shared by the data set sources: numbers, quoting a bad cell for a message, opening files.</summary>
internal static class FieldText
{
    private const int BufferSize = 1 << 16;

    /// <summary>A whole number written in plain digits (no sign, no spaces), the way the data sets write ids.</summary>
    public static bool TryParseId(ReadOnlySpan<char> text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    /// <summary>Plain digits that fit 64 bits (REES46 ids and category ids exceed 2^53: never parse them as doubles).</summary>
    public static bool IsDigits64(ReadOnlySpan<char> text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    public static bool TryParseInt(ReadOnlySpan<char> text, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    public static bool TryParseLong(ReadOnlySpan<char> text, out long value) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    /// <summary>A finite decimal number, invariant culture.</summary>
    public static bool TryParseDouble(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Unix seconds, within what <see cref="DateTimeOffset"/> can hold; the result is UTC.</summary>
    public static bool TryParseUnixSeconds(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        if (TryParseLong(text, out var seconds) && seconds is >= 0 and <= MaxUnixSeconds)
        {
            value = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }

        value = default;
        return false;
    }

    private const long MaxUnixSeconds = 253_402_300_799;

    /// <summary>A cell quoted for an error message, cut to a readable length.</summary>
    public static string Show(ReadOnlySpan<char> text) =>
        text.Length <= 40 ? $"'{text}'" : $"'{text[..40]}...'";

    public static StreamReader OpenText(string path, Encoding encoding) =>
        new(File.Open(path, new FileStreamOptions { Options = FileOptions.SequentialScan, BufferSize = BufferSize }), encoding, detectEncodingFromByteOrderMarks: false, BufferSize);
}

/// <summary>
/// The decimal text of small positive ids, made once per id: a million rating rows name a few thousand users and
/// items, and each row should not allocate its own copy of the same string.
/// </summary>
internal sealed class IdStrings
{
    private const int MaxCached = 1 << 22;

    private string?[] _cache = new string?[1024];

    public string Of(int id)
    {
        if ((uint)id >= MaxCached)
        {
            return id.ToString(CultureInfo.InvariantCulture);
        }

        if (id >= _cache.Length)
        {
            Array.Resize(ref _cache, Math.Min(MaxCached, Math.Max(id + 1, _cache.Length * 2)));
        }

        return _cache[id] ??= id.ToString(CultureInfo.InvariantCulture);
    }
}
