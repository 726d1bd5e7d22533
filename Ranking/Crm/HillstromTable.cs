using System.Globalization;
using System.Text;
using Ranking.Import;
using Ranking.Import.Datasets;

namespace Ranking.Crm;

/// <summary>
/// The Hillstrom e-mail test (<c>hillstrom.csv</c>, see <see cref="HillstromSource"/>) read straight into columns, one
/// entry per customer, for uplift modelling; the import pipeline's users/sends/outcomes are awkward for that.
/// </summary>
/// <remarks>
/// Columns are matched by header name. Unlike the import, this reader is strict: any bad row throws, since a model
/// must not silently train on part of the file.
/// </remarks>
public sealed class HillstromTable
{
    private static readonly string[] Header =
        ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel", "segment", "visit", "conversion", "spend"];

    private static readonly string[] ZipCodes = ["Urban", "Surburban", "Rural"];
    private static readonly string[] Channels = ["Phone", "Web", "Multichannel"];

    /// <summary>The model features, in the order of <see cref="Features"/>'s columns.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } =
    [
        "recency", "history", "mens", "womens", "zip_code=Urban", "zip_code=Surburban", "zip_code=Rural", "newbie",
        "channel=Phone", "channel=Web", "channel=Multichannel", "history_segment",
    ];

    private HillstromTable(int rows)
    {
        Recency = new int[rows];
        HistorySegment = new string[rows];
        History = new double[rows];
        Mens = new bool[rows];
        Womens = new bool[rows];
        ZipCode = new string[rows];
        Newbie = new bool[rows];
        Channel = new string[rows];
        Segment = new string[rows];
        Visit = new bool[rows];
        Conversion = new bool[rows];
        Spend = new double[rows];
    }

    public int Count => Recency.Length;

    /// <summary>Months since the last purchase.</summary>
    public int[] Recency { get; }

    /// <summary>The bucket of last year's spend as written, e.g. <c>2) $100 - $200</c>.</summary>
    public string[] HistorySegment { get; }

    /// <summary>Dollars spent in the past year.</summary>
    public double[] History { get; }

    public bool[] Mens { get; }

    public bool[] Womens { get; }

    /// <summary><c>Urban</c>, <c>Surburban</c> (sic) or <c>Rural</c>.</summary>
    public string[] ZipCode { get; }

    public bool[] Newbie { get; }

    /// <summary><c>Phone</c>, <c>Web</c> or <c>Multichannel</c>.</summary>
    public string[] Channel { get; }

    /// <summary>The arm: <see cref="HillstromSource.MensEmail"/>, <see cref="HillstromSource.WomensEmail"/> or <see cref="HillstromSource.NoEmail"/>.</summary>
    public string[] Segment { get; }

    public bool[] Visit { get; }

    public bool[] Conversion { get; }

    /// <summary>Dollars spent in the two weeks after the e-mail.</summary>
    public double[] Spend { get; }

    /// <summary>Reads <c>hillstrom.csv</c> from <paramref name="folder"/> (comma-separated; fields such as
    /// <c>"6) $750 - $1,000"</c> are quoted).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">A missing header column or a bad row (the message names the line and column).</exception>
    public static HillstromTable Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        using var reader = new StreamReader(Path.Combine(folder, HillstromSource.FileName), Encoding.UTF8);
        var csv = new CsvReader(reader);
        var fields = new List<string>();
        if (!csv.TryRead(fields, out _))
        {
            throw new FormatException($"{HillstromSource.FileName} is empty.");
        }

        var width = fields.Count;
        var at = new int[Header.Length];
        for (var c = 0; c < Header.Length; c++)
        {
            at[c] = fields.FindIndex(n => string.Equals(n.Trim(), Header[c], StringComparison.OrdinalIgnoreCase));
            if (at[c] < 0)
            {
                throw new FormatException($"The header of {HillstromSource.FileName} lacks the column '{Header[c]}'.");
            }
        }

        var rows = new List<Row>();
        while (csv.TryRead(fields, out var line))
        {
            if (fields.Count != width)
            {
                throw new FormatException($"Line {line}: {fields.Count} fields; the header has {width}.");
            }

            string Cell(int column) => fields[at[column]].Trim();
            rows.Add(new Row(
                ParseInt(Cell(0), line, "recency"),
                Cell(1),
                ParseDouble(Cell(2), line, "history"),
                ParseFlag(Cell(3), line, "mens"),
                ParseFlag(Cell(4), line, "womens"),
                Cell(5),
                ParseFlag(Cell(6), line, "newbie"),
                Cell(7),
                Cell(8) switch
                {
                    HillstromSource.MensEmail => HillstromSource.MensEmail,
                    HillstromSource.WomensEmail => HillstromSource.WomensEmail,
                    HillstromSource.NoEmail => HillstromSource.NoEmail,
                    var other => throw new FormatException($"Line {line}: segment '{other}' is not a known arm."),
                },
                ParseFlag(Cell(9), line, "visit"),
                ParseFlag(Cell(10), line, "conversion"),
                ParseDouble(Cell(11), line, "spend")));
            _ = SegmentRank(Cell(1), line);
        }

        var table = new HillstromTable(rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            table.Recency[r] = row.Recency;
            table.HistorySegment[r] = row.HistorySegment;
            table.History[r] = row.History;
            table.Mens[r] = row.Mens;
            table.Womens[r] = row.Womens;
            table.ZipCode[r] = row.ZipCode;
            table.Newbie[r] = row.Newbie;
            table.Channel[r] = row.Channel;
            table.Segment[r] = row.Segment;
            table.Visit[r] = row.Visit;
            table.Conversion[r] = row.Conversion;
            table.Spend[r] = row.Spend;
        }

        return table;
    }

    /// <summary>The rows (ascending) in <paramref name="treatedArm"/> or in the no-e-mail control, e.g. the 42,693 rows of
    /// the women's test.</summary>
    /// <exception cref="ArgumentException">The arm is not the men's or women's e-mail.</exception>
    public int[] RowsOfTest(string treatedArm)
    {
        if (treatedArm is not (HillstromSource.MensEmail or HillstromSource.WomensEmail))
        {
            throw new ArgumentException($"'{treatedArm}' is not a treated arm.", nameof(treatedArm));
        }

        var rows = new List<int>(Count);
        for (var r = 0; r < Count; r++)
        {
            if (Segment[r] == treatedArm || Segment[r] == HillstromSource.NoEmail)
            {
                rows.Add(r);
            }
        }

        return [.. rows];
    }

    /// <summary>True where the given rows were sent an e-mail (any arm other than no e-mail).</summary>
    public bool[] Treated(ReadOnlySpan<int> rows)
    {
        var treated = new bool[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            treated[i] = Segment[rows[i]] != HillstromSource.NoEmail;
        }

        return treated;
    }

    /// <summary>A 0/1 column (<see cref="Visit"/> or <see cref="Conversion"/>) or <see cref="Spend"/>, taken at the given rows.</summary>
    public static double[] Take(bool[] column, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(column);
        var values = new double[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            values[i] = column[rows[i]] ? 1 : 0;
        }

        return values;
    }

    /// <inheritdoc cref="Take(bool[], ReadOnlySpan{int})"/>
    public static double[] Take(double[] column, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(column);
        var values = new double[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            values[i] = column[rows[i]];
        }

        return values;
    }

    /// <summary>
    /// The features of the given rows (<see cref="FeatureNames"/>): recency, history, mens, womens, zip_code one-hot
    /// (Urban, Surburban, Rural), newbie, channel one-hot (Phone, Web, Multichannel), and history_segment as its ordinal
    /// (1 for <c>1) $0 - $100</c> up to 7 for <c>7) $1,000 +</c>, the number before the parenthesis). An unknown zip
    /// code or channel gives all zeros in its one-hot group.
    /// </summary>
    public FeatureMatrix Features(ReadOnlySpan<int> rows)
    {
        var columns = FeatureNames.Count;
        var values = new float[rows.Length * columns];
        for (var i = 0; i < rows.Length; i++)
        {
            var r = rows[i];
            var row = values.AsSpan(i * columns, columns);
            row[0] = Recency[r];
            row[1] = (float)History[r];
            row[2] = Mens[r] ? 1 : 0;
            row[3] = Womens[r] ? 1 : 0;
            OneHot(row.Slice(4, ZipCodes.Length), ZipCodes, ZipCode[r]);
            row[7] = Newbie[r] ? 1 : 0;
            OneHot(row.Slice(8, Channels.Length), Channels, Channel[r]);
            row[11] = SegmentRank(HistorySegment[r], r + 2L);
        }

        return new FeatureMatrix(FeatureNames, values);
    }

    private readonly record struct Row(
        int Recency, string HistorySegment, double History, bool Mens, bool Womens, string ZipCode, bool Newbie, string Channel,
        string Segment, bool Visit, bool Conversion, double Spend);

    private static void OneHot(Span<float> target, string[] categories, string value)
    {
        for (var c = 0; c < categories.Length; c++)
        {
            target[c] = string.Equals(categories[c], value, StringComparison.Ordinal) ? 1 : 0;
        }
    }

    private static int SegmentRank(string segment, long line)
    {
        var close = segment.IndexOf(')', StringComparison.Ordinal);
        if (close <= 0 || !int.TryParse(segment.AsSpan(0, close), NumberStyles.None, CultureInfo.InvariantCulture, out var rank))
        {
            throw new FormatException($"Line {line}: history_segment '{segment}' does not start with 'N)'.");
        }

        return rank;
    }

    private static int ParseInt(string cell, long line, string column) =>
        int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Line {line}: {column} '{cell}' is not a whole number.");

    private static double ParseDouble(string cell, long line, string column) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= 0
            ? value
            : throw new FormatException($"Line {line}: {column} '{cell}' is not an amount.");

    private static bool ParseFlag(string cell, long line, string column) => cell switch
    {
        "1" => true,
        "0" => false,
        _ => throw new FormatException($"Line {line}: {column} '{cell}' is not 0 or 1."),
    };
}
