using System.Globalization;
using System.IO.Compression;
using System.Text;
using Ranking.Domain;

namespace Ranking.Import.Datasets;

/// <summary>Which MovieLens release a folder holds.</summary>
public enum MovieLensEdition
{
    /// <summary>ML-1M: <c>movies.dat</c>, <c>users.dat</c> and ratings, fields separated by <c>::</c>.</summary>
    OneMillion,

    /// <summary>ML-100K: <c>u.data</c> (tabs), <c>u.item</c>, <c>u.user</c>, <c>u.genre</c> (pipes).</summary>
    HundredThousand,
}

/// <summary>
/// A MovieLens folder (GroupLens ratings), ML-1M or ML-100K, told apart by the files present: <c>u.data</c> means
/// ML-100K, <c>movies.dat</c> with a ratings file means ML-1M.
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b></para>
/// <list type="bullet">
/// <item><description>Items, one per movie: id = movie id, title as written (with its year, e.g. <c>Toy Story (1995)</c>),
/// category <c>Movies/{first genre}</c> (<c>Movies</c> when a movie lists no genre), attribute <c>genres</c> = all
/// genres joined by '|', attribute <c>year</c> when the title ends in a four-digit year in parentheses, and for ML-100K
/// <c>release_date</c> and <c>imdb_url</c> when given. No price, no brand.</description></item>
/// <item><description>Users with attributes <c>gender</c>, <c>age</c>, <c>occupation</c>, <c>zip</c> as written. In
/// ML-1M <c>age</c> is the bucket code (1, 18, 25, 35, 45, 50, 56) and <c>occupation</c> the numeric code of the
/// GroupLens README; in ML-100K age is in years and occupation a name. No CRM consent.</description></item>
/// <item><description>Each rating -> an event of type <c>rating</c> with <see cref="UserEvent.Value"/> = the stars
/// (whole numbers 1 to 5), timestamp from Unix seconds (UTC), event id <c>ml1m-{userId}-{movieId}</c> or
/// <c>ml100k-{userId}-{movieId}</c> (MovieLens has at most one rating per user and movie, so the id is unique and
/// stable). Item and user ids are the data set's own numbers, so the two editions belong in separate stores.</description></item>
/// </list>
/// <para><b>Order and lines.</b> Movies, then users, then ratings, each file in its own order;
/// <see cref="Row{T}.Line"/> is the 1-based line in the file the record came from (these files have no header).
/// Ratings are yielded in file order, which is not time order (ML-1M groups them by user, ML-100K is shuffled).</para>
/// <para><b>Files and oddities.</b> ML-1M ratings are read from <c>ratings.dat</c>, else <c>ratings.dat.gz</c>, else
/// <c>ratings_users0001-2999.dat.gz</c> (the shared copy: only users 1-2999, 487,650 ratings, while <c>users.dat</c>
/// lists all 6,040 users). <c>movies.dat</c> and <c>u.item</c> are Latin-1 (titles such as
/// <c>Misérables, Les (1995)</c>). ML-100K genre names come from <c>u.genre</c> (19, including <c>unknown</c>); movie
/// 267 is titled <c>unknown</c> and has the genre <c>unknown</c>. A line that cannot be parsed becomes a
/// <see cref="RowError"/> naming the column, and the rest of the file is read.</para>
/// </remarks>
public sealed class MovieLensSource : IImportSource
{
    private static readonly string[] OneMillionRatingFiles = ["ratings.dat", "ratings.dat.gz", "ratings_users0001-2999.dat.gz"];

    private readonly string _folder;
    private readonly int _chunkSize;

    /// <param name="folder">The folder with the MovieLens files.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder holds neither ML-1M nor ML-100K files.</exception>
    public MovieLensSource(string folder, int chunkSize = DatasetCatalog.DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The MovieLens folder '{folder}' does not exist.");
        }

        _folder = folder;
        _chunkSize = chunkSize;
        if (File.Exists(Path.Combine(folder, "u.data")))
        {
            Edition = MovieLensEdition.HundredThousand;
            RatingsFile = Path.Combine(folder, "u.data");
            return;
        }

        var ratings = Array.Find(OneMillionRatingFiles, f => File.Exists(Path.Combine(folder, f)));
        if (ratings is null || !File.Exists(Path.Combine(folder, "movies.dat")))
        {
            throw new FileNotFoundException(
                $"'{folder}' is not a MovieLens folder: expected u.data, u.item, u.user and u.genre (ML-100K), or movies.dat, " +
                $"users.dat and one of {string.Join(", ", OneMillionRatingFiles)} (ML-1M).");
        }

        Edition = MovieLensEdition.OneMillion;
        RatingsFile = Path.Combine(folder, ratings);
    }

    public MovieLensEdition Edition { get; }

    /// <summary>The ratings file that is read.</summary>
    public string RatingsFile { get; }

    public string Name => Edition == MovieLensEdition.OneMillion ? DatasetCatalog.MovieLens1M : DatasetCatalog.MovieLens100K;

    public IAsyncEnumerable<ImportChunk> ReadAsync(CancellationToken cancellationToken = default) =>
        ChunkBuilder.StreamAsync(ReadChunks(cancellationToken), cancellationToken);

    private IEnumerable<ImportChunk> ReadChunks(CancellationToken cancellationToken)
    {
        var chunks = new ChunkBuilder(_chunkSize);
        var oneMillion = Edition == MovieLensEdition.OneMillion;

        string[] genres = oneMillion ? [] : ReadGenres(Path.Combine(_folder, "u.genre"));
        var movies = Path.Combine(_folder, oneMillion ? "movies.dat" : "u.item");
        using (var reader = FieldText.OpenText(movies, Encoding.Latin1))
        {
            long line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }

                var item = oneMillion
                    ? ParseOneMillionMovie(text, line, chunks.Current.Errors)
                    : ParseHundredThousandItem(text, line, genres, chunks.Current.Errors);
                if (item is not null)
                {
                    chunks.Current.Items.Add(new(line, item));
                }

                if (chunks.IsFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunks.Take();
                }
            }
        }

        var users = Path.Combine(_folder, oneMillion ? "users.dat" : "u.user");
        using (var reader = FieldText.OpenText(users, Encoding.Latin1))
        {
            long line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }

                if (ParseUser(text, line, oneMillion, chunks.Current.Errors) is { } user)
                {
                    chunks.Current.Users.Add(new(line, user));
                }

                if (chunks.IsFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunks.Take();
                }
            }
        }

        var userIds = new IdStrings();
        var movieIds = new IdStrings();
        var separator = oneMillion ? "::" : "\t";
        // The edition is in the event id so that both editions can share a store without their ratings colliding.
        var eventPrefix = oneMillion ? "ml1m-" : "ml100k-";
        using (var reader = OpenRatings())
        {
            long line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }

                if (ParseRating(text, line, separator, eventPrefix, userIds, movieIds, chunks.Current.Errors) is { } rating)
                {
                    chunks.Current.Events.Add(new(line, rating));
                }

                if (chunks.IsFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunks.Take();
                }
            }
        }

        if (!chunks.IsEmpty)
        {
            yield return chunks.Take();
        }
    }

    private StreamReader OpenRatings()
    {
        if (!RatingsFile.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            return FieldText.OpenText(RatingsFile, Encoding.Latin1);
        }

        var file = File.Open(RatingsFile, new FileStreamOptions { Options = FileOptions.SequentialScan, BufferSize = 1 << 16 });
        return new StreamReader(new GZipStream(file, CompressionMode.Decompress), Encoding.Latin1, detectEncodingFromByteOrderMarks: false, 1 << 16);
    }

    // u.genre: "name|index" per line, indexes 0..18 in the order of u.item's flag columns.
    private static string[] ReadGenres(string path)
    {
        var names = new List<(int Index, string Name)>();
        foreach (var text in File.ReadLines(path, Encoding.Latin1))
        {
            var bar = text.LastIndexOf('|');
            if (bar > 0 && FieldText.TryParseInt(text.AsSpan(bar + 1), out var index) && index >= 0)
            {
                names.Add((index, text[..bar]));
            }
        }

        var genres = new string[names.Count];
        foreach (var (index, name) in names)
        {
            if (index >= genres.Length)
            {
                throw new InvalidDataException($"'{path}' numbers its {names.Count} genres beyond {names.Count - 1} (genre '{name}' is {index}).");
            }

            genres[index] = name;
        }

        return genres;
    }

    // movies.dat: MovieID::Title::Genres, genres separated by '|'.
    private static Item? ParseOneMillionMovie(string text, long line, List<RowError> errors)
    {
        var span = text.AsSpan();
        Span<Range> f = stackalloc Range[4];
        if (span.Split(f, "::") != 3)
        {
            errors.Add(new(line, "(row)", $"expected MovieID::Title::Genres, got {FieldText.Show(span)}."));
            return null;
        }

        if (!FieldText.TryParseId(span[f[0]], out var id))
        {
            errors.Add(new(line, "movie_id", $"{FieldText.Show(span[f[0]])} is not a positive whole number."));
            return null;
        }

        var title = span[f[1]].Trim();
        if (title.IsEmpty)
        {
            errors.Add(new(line, "title", "The title is empty."));
            return null;
        }

        var genres = span[f[2]].Trim();
        var bar = genres.IndexOf('|');
        var first = bar < 0 ? genres : genres[..bar];
        return MakeMovie(id, title.ToString(), first, genres.IsEmpty ? null : genres.ToString(), releaseDate: null, imdbUrl: null);
    }

    // u.item: id|title|release date|video release date|IMDb URL|19 genre flags.
    private static Item? ParseHundredThousandItem(string text, long line, string[] genreNames, List<RowError> errors)
    {
        var span = text.AsSpan();
        var expected = 5 + genreNames.Length;
        Span<Range> f = stackalloc Range[expected + 1];
        if (span.Split(f, '|') != expected)
        {
            errors.Add(new(line, "(row)", $"expected {expected} fields separated by '|' (5 + one flag per genre)."));
            return null;
        }

        if (!FieldText.TryParseId(span[f[0]], out var id))
        {
            errors.Add(new(line, "movie_id", $"{FieldText.Show(span[f[0]])} is not a positive whole number."));
            return null;
        }

        var title = span[f[1]].Trim();
        if (title.IsEmpty)
        {
            errors.Add(new(line, "title", "The title is empty."));
            return null;
        }

        string? firstGenre = null;
        var genres = new StringBuilder();
        for (var g = 0; g < genreNames.Length; g++)
        {
            var flag = span[f[5 + g]];
            if (flag is "1")
            {
                firstGenre ??= genreNames[g];
                genres.Append(genres.Length == 0 ? "" : "|").Append(genreNames[g]);
            }
            else if (flag is not "0")
            {
                errors.Add(new(line, genreNames[g], $"the genre flag is {FieldText.Show(flag)}, not 0 or 1."));
                return null;
            }
        }

        var release = span[f[2]].Trim();
        var url = span[f[4]].Trim();
        return MakeMovie(
            id, title.ToString(), firstGenre, genres.Length == 0 ? null : genres.ToString(),
            release.IsEmpty ? null : release.ToString(), url.IsEmpty ? null : url.ToString());
    }

    private static Item MakeMovie(int id, string title, ReadOnlySpan<char> firstGenre, string? genres, string? releaseDate, string? imdbUrl)
    {
        var attributes = new Dictionary<string, string>(4);
        if (genres is not null)
        {
            attributes["genres"] = genres;
        }

        if (YearOf(title) is { } year)
        {
            attributes["year"] = year;
        }

        if (releaseDate is not null)
        {
            attributes["release_date"] = releaseDate;
        }

        if (imdbUrl is not null)
        {
            attributes["imdb_url"] = imdbUrl;
        }

        return new Item
        {
            Id = id.ToString(CultureInfo.InvariantCulture),
            Title = title,
            Category = firstGenre.IsEmpty ? "Movies" : $"Movies/{firstGenre}",
            Attributes = attributes,
        };
    }

    // "Toy Story (1995)" -> "1995"; a title without a trailing "(yyyy)" has no year.
    internal static string? YearOf(string title)
    {
        var t = title.AsSpan().TrimEnd();
        if (t.Length >= 6 && t[^1] == ')' && t[^6] == '(' && char.IsAsciiDigit(t[^5]) && char.IsAsciiDigit(t[^4])
            && char.IsAsciiDigit(t[^3]) && char.IsAsciiDigit(t[^2]))
        {
            return t[^5..^1].ToString();
        }

        return null;
    }

    // users.dat: UserID::Gender::Age::Occupation::Zip-code; u.user: user_id|age|gender|occupation|zip.
    private static User? ParseUser(string text, long line, bool oneMillion, List<RowError> errors)
    {
        var span = text.AsSpan();
        Span<Range> f = stackalloc Range[6];
        var count = oneMillion ? span.Split(f, "::") : span.Split(f, '|');
        if (count != 5)
        {
            errors.Add(new(line, "(row)", oneMillion
                ? "expected UserID::Gender::Age::Occupation::Zip-code."
                : "expected user_id|age|gender|occupation|zip."));
            return null;
        }

        if (!FieldText.TryParseId(span[f[0]], out var id))
        {
            errors.Add(new(line, "user_id", $"{FieldText.Show(span[f[0]])} is not a positive whole number."));
            return null;
        }

        var (gender, age) = oneMillion ? (f[1], f[2]) : (f[2], f[1]);
        return new User
        {
            Id = id.ToString(CultureInfo.InvariantCulture),
            Attributes = new Dictionary<string, string>(4)
            {
                ["gender"] = span[gender].ToString(),
                ["age"] = span[age].ToString(),
                ["occupation"] = span[f[3]].ToString(),
                ["zip"] = span[f[4]].ToString(),
            },
        };
    }

    // ratings.dat: UserID::MovieID::Rating::Timestamp; u.data: the same four, tab-separated.
    private static UserEvent? ParseRating(string text, long line, string separator, string eventPrefix, IdStrings userIds, IdStrings movieIds, List<RowError> errors)
    {
        var span = text.AsSpan();
        Span<Range> f = stackalloc Range[5];
        if (span.Split(f, separator) != 4)
        {
            errors.Add(new(line, "(row)", $"expected user_id, movie_id, rating, timestamp separated by '{(separator == "\t" ? "\\t" : separator)}'."));
            return null;
        }

        var ok = true;
        if (!FieldText.TryParseId(span[f[0]], out var user))
        {
            errors.Add(new(line, "user_id", $"{FieldText.Show(span[f[0]])} is not a positive whole number."));
            ok = false;
        }

        if (!FieldText.TryParseId(span[f[1]], out var movie))
        {
            errors.Add(new(line, "movie_id", $"{FieldText.Show(span[f[1]])} is not a positive whole number."));
            ok = false;
        }

        if (!FieldText.TryParseInt(span[f[2]], out var stars) || stars is < 1 or > 5)
        {
            errors.Add(new(line, "rating", $"{FieldText.Show(span[f[2]])} is not a whole number of stars from 1 to 5."));
            ok = false;
        }

        if (!FieldText.TryParseUnixSeconds(span[f[3]], out var timestamp))
        {
            errors.Add(new(line, "timestamp", $"{FieldText.Show(span[f[3]])} is not a time in Unix seconds."));
            ok = false;
        }

        if (!ok)
        {
            return null;
        }

        return new UserEvent
        {
            EventId = $"{eventPrefix}{user}-{movie}",
            UserId = userIds.Of(user),
            ItemId = movieIds.Of(movie),
            Type = EventTypeRegistry.Rating,
            Timestamp = timestamp,
            Value = stars,
        };
    }
}
