using System.ComponentModel;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Ranking.Import;

namespace Assistant.Api.Endpoints;

/// <summary>Bulk import over HTTP of the documented CSV and JSON Lines formats (docs/IMPORT.md).</summary>
public static class ImportApi
{
    public const string CsvMediaType = "text/csv";
    public const string JsonLinesMediaType = "application/x-ndjson";

    public static IEndpointRouteBuilder MapImportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/import").WithTags("Import");
        api.MapPost("/{kind}", ImportAsync).WithName("ImportRecords")
            .WithSummary("Import items, users or events from a CSV (text/csv) or JSON Lines (application/x-ndjson) body; all or nothing unless skipBad.")
            .Accepts<string>(CsvMediaType, JsonLinesMediaType, "application/jsonl");
        return app;
    }

    public static async Task<Results<Ok<ImportResponse>, ProblemHttpResult>> ImportAsync(
        string kind, HttpRequest request, Importer importer, CancellationToken cancellationToken, bool skipBad = false)
    {
        RecordKind? recordKind = kind.ToLowerInvariant() switch
        {
            "items" => RecordKind.Items,
            "users" => RecordKind.Users,
            "events" => RecordKind.Events,
            _ => null,
        };
        if (recordKind is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Unknown record kind", detail: $"'{kind}' is not importable: use items, users or events.");
        }

        RecordFormat? format = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() switch
        {
            CsvMediaType => RecordFormat.Csv,
            JsonLinesMediaType or "application/jsonl" or "application/json-lines" => RecordFormat.JsonLines,
            _ => null,
        };
        if (format is null)
        {
            return TypedResults.Problem(statusCode: 415, title: "Unsupported media type",
                detail: $"Send the records as {CsvMediaType} or {JsonLinesMediaType}; got '{request.ContentType}'.");
        }

        // The importer reads its source twice (check, then store), so the body is held once in memory; its size
        // is bounded by Api:MaxRequestBodyBytes.
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        var source = new RecordFileSource("request body", () => new StringReader(text), recordKind.Value, format.Value);
        var report = await importer.ImportAsync(source, new ImportOptions { SkipBad = skipBad }, cancellationToken).ConfigureAwait(false);
        var errors = report.Errors.Select(e => e.ToString()).ToList();
        if (!report.Committed)
        {
            return TypedResults.Problem(statusCode: 400, title: "Some rows are invalid; nothing was stored.",
                detail: $"{report.BadRows} bad rows. Fix them or pass ?skipBad=true to store the good rows.",
                extensions: new Dictionary<string, object?> { ["badRows"] = report.BadRows, ["rowErrors"] = errors });
        }

        var written = kind.ToLowerInvariant() switch
        {
            "items" => report.Items,
            "users" => report.Users,
            _ => report.Events,
        };
        return TypedResults.Ok(new ImportResponse(written.Received, written.Stored, written.Duplicates, written.UnknownItems, report.BadRows, errors));
    }
}

[Description("What a bulk import stored.")]
public sealed record ImportResponse(
    [property: Description("Good rows read.")] int Received,
    [property: Description("Rows stored (events) or written (items, users).")] int Stored,
    [property: Description("Events whose id was already stored.")] int Duplicates,
    [property: Description("Stored events naming an item not in the catalog.")] int UnknownItems,
    [property: Description("Rows skipped as invalid (with skipBad).")] long BadRows,
    [property: Description("The skipped rows' errors, 'line N: field: message'.")] IReadOnlyList<string> RowErrors);
