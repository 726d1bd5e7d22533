using System.Text.Json;
using System.Text.Json.Serialization;
using Ranking.Domain;

namespace Assistant.Api.Storage;

/// <summary>How maps and lists are kept in a text/jsonb column.</summary>
internal static class StorageJson
{
    public static string Write(IReadOnlyDictionary<string, string> map) =>
        map.Count == 0 ? "{}" : JsonSerializer.Serialize(map, StorageJsonContext.Default.IReadOnlyDictionaryStringString);

    public static string Write(IReadOnlyDictionary<string, bool> map) =>
        map.Count == 0 ? "{}" : JsonSerializer.Serialize(map, StorageJsonContext.Default.IReadOnlyDictionaryStringBoolean);

    public static string Write(IReadOnlyList<ExperimentVariant> variants) =>
        JsonSerializer.Serialize(variants, StorageJsonContext.Default.IReadOnlyListExperimentVariant);

    public static string Write(IReadOnlyList<TargetingRule> rules) =>
        rules.Count == 0 ? "[]" : JsonSerializer.Serialize(rules, StorageJsonContext.Default.IReadOnlyListTargetingRule);

    public static IReadOnlyList<TargetingRule> ReadTargeting(string json) =>
        json is "[]" or "" ? [] : JsonSerializer.Deserialize(json, StorageJsonContext.Default.ListTargetingRule) ?? [];

    public static string Write(ExperimentStatus status) => status.ToString().ToLowerInvariant();

    public static ExperimentStatus ReadStatus(string text) => Enum.Parse<ExperimentStatus>(text, ignoreCase: true);

    public static IReadOnlyDictionary<string, string> ReadStrings(string json) =>
        json is "{}" or "" ? new Dictionary<string, string>() : JsonSerializer.Deserialize(json, StorageJsonContext.Default.DictionaryStringString) ?? [];

    public static IReadOnlyDictionary<string, bool> ReadBools(string json) =>
        json is "{}" or "" ? new Dictionary<string, bool>() : JsonSerializer.Deserialize(json, StorageJsonContext.Default.DictionaryStringBoolean) ?? [];

    public static IReadOnlyList<ExperimentVariant> ReadVariants(string json) =>
        JsonSerializer.Deserialize(json, StorageJsonContext.Default.ListExperimentVariant) ?? [];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, bool>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, bool>))]
[JsonSerializable(typeof(IReadOnlyList<ExperimentVariant>))]
[JsonSerializable(typeof(List<ExperimentVariant>))]
[JsonSerializable(typeof(IReadOnlyList<TargetingRule>))]
[JsonSerializable(typeof(List<TargetingRule>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
