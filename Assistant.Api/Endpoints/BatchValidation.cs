using Ranking.Domain;

namespace Assistant.Api.Endpoints;

/// <summary>Checks a POSTed batch record by record; errors are keyed like <c>events[3].type</c>.</summary>
internal static class BatchValidation
{
    public static Dictionary<string, string[]> Validate<TRecord, TDomain>(
        IReadOnlyList<TRecord>? records, string name, int maxBatch, Func<TRecord, TDomain> toDomain,
        Action<TDomain, List<FieldError>> validate, out List<TDomain> valid)
    {
        var errors = new Dictionary<string, string[]>();
        valid = [];
        if (records is null || records.Count == 0)
        {
            errors[name] = [$"The request needs a non-empty '{name}' array."];
            return errors;
        }

        if (records.Count > maxBatch)
        {
            errors[name] = [$"{records.Count} records in one batch; at most {maxBatch} (Api:MaxBatchSize). Split the batch."];
            return errors;
        }

        var scratch = new List<FieldError>();
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i] is not { } record)
            {
                errors[$"{name}[{i}]"] = ["The record is null."];
                continue;
            }

            var domain = toDomain(record);
            scratch.Clear();
            validate(domain, scratch);
            foreach (var group in scratch.GroupBy(e => e.Field))
            {
                errors[$"{name}[{i}].{group.Key}"] = [.. group.Select(e => e.Message)];
            }

            if (scratch.Count == 0)
            {
                valid.Add(domain);
            }
        }

        return errors;
    }
}
