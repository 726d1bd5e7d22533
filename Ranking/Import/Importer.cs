using System.Diagnostics;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Import;

/// <summary>
/// Validates a source and writes it into a store. All or nothing by default: every row is checked before the
/// first write, and one bad row stops the import with nothing stored. With <see cref="ImportOptions.SkipBad"/>
/// the good rows are stored and the bad ones listed. Writes are idempotent (events by id, items and users by
/// upsert), so an import interrupted half-way can simply be run again.
/// </summary>
public sealed class Importer(IMarketplaceStore store, RecordValidator validator)
{
    public async Task<ImportReport> ImportAsync(IImportSource source, ImportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();

        var errors = new List<RowError>();
        long badRows = 0;
        var badLines = new HashSet<(int Kind, long Line)>();
        await foreach (var chunk in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            badRows += Check(chunk, errors, badLines, options.MaxErrorsListed);
        }

        if (badRows > 0 && !options.SkipBad)
        {
            return new ImportReport { Source = source.Name, Committed = false, BadRows = badRows, Errors = errors, Elapsed = clock.Elapsed };
        }

        var report = new ImportReport { Source = source.Name, Committed = true, BadRows = badRows, Errors = errors };
        await foreach (var chunk in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            report = await WriteAsync(chunk, report, badLines, cancellationToken).ConfigureAwait(false);
        }

        return report with { Elapsed = clock.Elapsed };
    }

    private int Check(ImportChunk chunk, List<RowError> errors, HashSet<(int Kind, long Line)> badLines, int maxListed)
    {
        var bad = 0;
        foreach (var e in chunk.Errors)
        {
            if (badLines.Add((-1, e.Line)))
            {
                bad++;
            }

            if (errors.Count < maxListed)
            {
                errors.Add(e);
            }
        }

        var fieldErrors = new List<FieldError>();
        bad += CheckRows(KindItems, chunk.Items, validator.Validate, fieldErrors, errors, badLines, maxListed);
        bad += CheckRows(KindUsers, chunk.Users, validator.Validate, fieldErrors, errors, badLines, maxListed);
        bad += CheckRows(KindEvents, chunk.Events, validator.Validate, fieldErrors, errors, badLines, maxListed);
        bad += CheckRows(KindSends, chunk.Sends, validator.Validate, fieldErrors, errors, badLines, maxListed);
        bad += CheckRows(KindOutcomes, chunk.Outcomes, validator.Validate, fieldErrors, errors, badLines, maxListed);
        bad += CheckRows(KindExposures, chunk.Exposures, static (_, _) => { }, fieldErrors, errors, badLines, maxListed);
        return bad;
    }

    // Rows of different kinds may come from different files of one source, so a bad row is keyed by kind and line.
    private const int KindItems = 0, KindUsers = 1, KindEvents = 2, KindSends = 3, KindOutcomes = 4, KindExposures = 5;

    private static int CheckRows<T>(
        int kind, List<Row<T>> rows, Action<T, List<FieldError>> validate, List<FieldError> scratch, List<RowError> errors,
        HashSet<(int Kind, long Line)> badLines, int maxListed)
    {
        var bad = 0;
        foreach (var row in rows)
        {
            scratch.Clear();
            validate(row.Value, scratch);
            if (scratch.Count == 0)
            {
                continue;
            }

            if (badLines.Add((kind, row.Line)))
            {
                bad++;
            }

            foreach (var fe in scratch)
            {
                if (errors.Count < maxListed)
                {
                    errors.Add(new RowError(row.Line, fe.Field, fe.Message));
                }
            }
        }

        return bad;
    }

    private async Task<ImportReport> WriteAsync(ImportChunk chunk, ImportReport report, HashSet<(int Kind, long Line)> badLines, CancellationToken cancellationToken)
    {
        foreach (var campaign in chunk.Campaigns)
        {
            await store.UpsertCampaignAsync(campaign, cancellationToken).ConfigureAwait(false);
        }

        foreach (var experiment in chunk.Experiments)
        {
            await store.UpsertExperimentAsync(experiment, cancellationToken).ConfigureAwait(false);
        }

        var items = Good(KindItems, chunk.Items, badLines);
        var users = Good(KindUsers, chunk.Users, badLines);
        var events = Good(KindEvents, chunk.Events, badLines);
        var sends = Good(KindSends, chunk.Sends, badLines);
        var outcomes = Good(KindOutcomes, chunk.Outcomes, badLines);
        var exposures = Good(KindExposures, chunk.Exposures, badLines);

        var itemsWritten = items.Count > 0 ? await store.UpsertItemsAsync(items, cancellationToken).ConfigureAwait(false) : 0;
        var usersWritten = users.Count > 0 ? await store.UpsertUsersAsync(users, cancellationToken).ConfigureAwait(false) : 0;
        var ev = events.Count > 0 ? await store.AppendEventsAsync(events, cancellationToken).ConfigureAwait(false) : default;
        var se = sends.Count > 0 ? await store.AppendSendsAsync(sends, cancellationToken).ConfigureAwait(false) : default;
        var oc = outcomes.Count > 0 ? await store.AppendOutcomesAsync(outcomes, cancellationToken).ConfigureAwait(false) : default;
        var ex = exposures.Count > 0 ? await store.RecordExposuresAsync(exposures, cancellationToken).ConfigureAwait(false) : default;

        return report with
        {
            Campaigns = report.Campaigns + chunk.Campaigns.Count,
            Experiments = report.Experiments + chunk.Experiments.Count,
            Items = report.Items + new IngestResult(items.Count, itemsWritten, 0),
            Users = report.Users + new IngestResult(users.Count, usersWritten, 0),
            Events = report.Events + ev,
            Sends = report.Sends + se,
            Outcomes = report.Outcomes + oc,
            Exposures = report.Exposures + ex,
        };
    }

    private static List<T> Good<T>(int kind, List<Row<T>> rows, HashSet<(int Kind, long Line)> badLines)
    {
        var list = new List<T>(rows.Count);
        foreach (var row in rows)
        {
            if (badLines.Count == 0 || !badLines.Contains((kind, row.Line)))
            {
                list.Add(row.Value);
            }
        }

        return list;
    }
}
