using System.Globalization;
using System.Text;
using Ranking.Domain;

namespace Ranking.Import.Datasets;

/// <summary>
/// The Hillstrom MineThatData e-mail challenge (2008): <c>hillstrom.csv</c>, one row per customer with the columns
/// recency, history_segment, history, mens, womens, zip_code, newbie, channel, segment, visit, conversion, spend
/// (matched by header name).
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b></para>
/// <list type="bullet">
/// <item><description>One campaign, <see cref="CampaignId"/> (<c>hillstrom-2008</c>), channel e-mail, started at
/// <see cref="CampaignStart"/>.</description></item>
/// <item><description>Per row n (1-based data row, i.e. file line n + 1): a user <c>hill-{n}</c> with the attributes
/// recency, history_segment, history, mens, womens, zip_code, newbie, channel as written (<c>Surburban</c> is the
/// original's spelling) and e-mail consent; a send <c>hill-{n}</c> with <see cref="CrmSend.IsTreatment"/> = the
/// segment is not <c>No E-Mail</c> and <see cref="CrmSend.Variant"/> = the segment text (<c>Mens E-Mail</c>,
/// <c>Womens E-Mail</c>, or <c>No E-Mail</c> for control, kept so the three arms can be told apart); an outcome
/// <c>visit</c> when visit = 1 and an outcome <see cref="ConversionOutcome"/> with <see cref="CrmOutcome.Value"/> =
/// spend when conversion = 1.</description></item>
/// </list>
/// <para><b>Synthetic times.</b> The data has no dates. The campaign start is fixed at 2008-03-01 (the challenge was
/// published on 2008-03-20 about an e-mail test held shortly before); every send is at that time, and every outcome
/// one day later (the real window is "within two weeks"). Only the arm and the outcomes are real.</para>
/// <para><b>Bad rows.</b> A row with a wrong number of fields, a non-numeric or out-of-range value, or an unknown
/// segment yields a <see cref="RowError"/> naming the column and no records at all.</para>
/// </remarks>
public sealed class HillstromSource : IImportSource
{
    public const string FileName = "hillstrom.csv";
    public const string CampaignId = "hillstrom-2008";
    public const string MensEmail = "Mens E-Mail";
    public const string WomensEmail = "Womens E-Mail";
    public const string NoEmail = "No E-Mail";

    /// <summary>The outcome type for a purchase in the two weeks after the e-mail.</summary>
    public const string ConversionOutcome = CrmOutcomeTypes.Conversion;

    private static readonly string[] Columns =
    [
        "recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel", "segment", "visit", "conversion",
        "spend",
    ];

    private const int RecencyCol = 0, HistoryCol = 2, MensCol = 3, WomensCol = 4, NewbieCol = 6, SegmentCol = 8, VisitCol = 9,
        ConversionCol = 10, SpendCol = 11;

    // The user attributes: every column before the segment.
    private const int AttributeColumns = SegmentCol;

    private static readonly IReadOnlyDictionary<string, bool> EmailConsent = new Dictionary<string, bool> { [CrmChannels.Email] = true };

    private readonly string _path;
    private readonly int _chunkSize;

    /// <param name="folder">The folder that holds <c>hillstrom.csv</c>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public HillstromSource(string folder, int chunkSize = DatasetCatalog.DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The Hillstrom folder '{folder}' does not exist.");
        }

        _path = Path.Combine(folder, FileName);
        _chunkSize = chunkSize;
    }

    /// <summary>The fixed (synthetic) time of the campaign and of every send: 2008-03-01T00:00Z.</summary>
    public static DateTimeOffset CampaignStart { get; } = new(2008, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How long after the send the (synthetic) outcome timestamps lie.</summary>
    public static TimeSpan OutcomeDelay { get; } = TimeSpan.FromDays(1);

    public static CrmCampaign Campaign { get; } = new()
    {
        Id = CampaignId,
        Name = "Hillstrom MineThatData e-mail test (2008)",
        Channel = CrmChannels.Email,
        StartedAt = CampaignStart,
        Description = "Kevin Hillstrom's MineThatData challenge: 64,000 customers split at random into a men's e-mail, a women's "
            + "e-mail and no e-mail; visit, conversion and spend over the two weeks after. Send and outcome times are synthetic.",
    };

    public string Name => DatasetCatalog.Hillstrom;

    public IAsyncEnumerable<ImportChunk> ReadAsync(CancellationToken cancellationToken = default) =>
        ChunkBuilder.StreamAsync(ReadChunks(cancellationToken), cancellationToken);

    private IEnumerable<ImportChunk> ReadChunks(CancellationToken cancellationToken)
    {
        var chunks = new ChunkBuilder(_chunkSize);
        chunks.Current.Campaigns.Add(Campaign);
        using var reader = FieldText.OpenText(_path, Encoding.UTF8);
        var csv = new CsvReader(reader);
        var fields = new List<string>();
        var columns = ReadHeader(csv, fields, chunks.Current.Errors);
        long line = 1;
        while (columns is not null)
        {
            if (!csv.TryReadOrReport(fields, chunks.Current.Errors, out line))
            {
                break;
            }

            AddRow(fields, columns, line, chunks.Current);
            if (chunks.IsFull)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return chunks.Take();
            }
        }

        if (!chunks.IsEmpty)
        {
            yield return chunks.Take();
        }
    }

    private static int[]? ReadHeader(CsvReader csv, List<string> fields, List<RowError> errors)
    {
        long line = 1;
        try
        {
            if (!csv.TryRead(fields, out line))
            {
                errors.Add(new(1, "(header)", $"The file is empty; expected the header {string.Join(',', Columns)}."));
                return null;
            }
        }
        catch (FormatException ex)
        {
            errors.Add(new(1, "(header)", ex.Message));
            return null;
        }

        if (fields.Count != Columns.Length)
        {
            errors.Add(new(line, "(header)", $"has {fields.Count} columns; expected {string.Join(',', Columns)}."));
            return null;
        }

        var columns = new int[Columns.Length];
        for (var c = 0; c < Columns.Length; c++)
        {
            var name = Columns[c];
            columns[c] = fields.FindIndex(h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
            if (columns[c] < 0)
            {
                errors.Add(new(line, name, "The header lacks this column."));
                return null;
            }
        }

        return columns;
    }

    private static void AddRow(List<string> fields, int[] columns, long line, ImportChunk chunk)
    {
        var errors = chunk.Errors;
        if (fields.Count != Columns.Length)
        {
            errors.Add(new(line, "(row)", $"has {fields.Count} fields; the header has {Columns.Length}."));
            return;
        }

        string Cell(int column) => fields[columns[column]].Trim();

        var before = errors.Count;
        if (!FieldText.TryParseInt(Cell(RecencyCol), out var recency) || recency < 0)
        {
            errors.Add(new(line, "recency", $"{FieldText.Show(Cell(RecencyCol))} is not a whole number of months."));
        }

        if (!FieldText.TryParseDouble(Cell(HistoryCol), out var history) || history < 0)
        {
            errors.Add(new(line, "history", $"{FieldText.Show(Cell(HistoryCol))} is not an amount of dollars."));
        }

        CheckFlag(Cell(MensCol), "mens", line, errors);
        CheckFlag(Cell(WomensCol), "womens", line, errors);
        CheckFlag(Cell(NewbieCol), "newbie", line, errors);
        var visit = CheckFlag(Cell(VisitCol), "visit", line, errors);
        var conversion = CheckFlag(Cell(ConversionCol), "conversion", line, errors);
        if (!FieldText.TryParseDouble(Cell(SpendCol), out var spend) || spend < 0)
        {
            errors.Add(new(line, "spend", $"{FieldText.Show(Cell(SpendCol))} is not an amount of dollars."));
        }

        var segment = Cell(SegmentCol) switch
        {
            MensEmail => MensEmail,
            WomensEmail => WomensEmail,
            NoEmail => NoEmail,
            _ => null,
        };
        if (segment is null)
        {
            errors.Add(new(line, "segment", $"{FieldText.Show(Cell(SegmentCol))} is not one of '{MensEmail}', '{WomensEmail}', '{NoEmail}'."));
        }

        if (errors.Count > before || segment is null)
        {
            return;
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"hill-{line - 1}");
        var attributes = new Dictionary<string, string>(AttributeColumns);
        for (var c = 0; c < AttributeColumns; c++)
        {
            attributes[Columns[c]] = Cell(c);
        }

        chunk.Users.Add(new(line, new User { Id = id, Attributes = attributes, Consent = EmailConsent }));
        chunk.Sends.Add(new(line, new CrmSend
        {
            SendId = id,
            CampaignId = CampaignId,
            UserId = id,
            Channel = CrmChannels.Email,
            SentAt = CampaignStart,
            IsTreatment = segment != NoEmail,
            Variant = segment,
        }));
        var outcomeAt = CampaignStart + OutcomeDelay;
        if (visit)
        {
            chunk.Outcomes.Add(new(line, new CrmOutcome { SendId = id, Type = CrmOutcomeTypes.Visit, Timestamp = outcomeAt }));
        }

        if (conversion)
        {
            chunk.Outcomes.Add(new(line, new CrmOutcome { SendId = id, Type = ConversionOutcome, Timestamp = outcomeAt, Value = spend }));
        }
    }

    // A 0/1 column; true for 1. A bad value is reported and reads as false.
    private static bool CheckFlag(string cell, string column, long line, List<RowError> errors)
    {
        switch (cell)
        {
            case "1":
                return true;
            case "0":
                return false;
            default:
                errors.Add(new(line, column, $"{FieldText.Show(cell)} is not 0 or 1."));
                return false;
        }
    }
}
