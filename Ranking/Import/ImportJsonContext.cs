using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ranking.Import;

/// <summary>Source-generated JSON for the wire records (camelCase, as over HTTP).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ItemRecord))]
[JsonSerializable(typeof(UserRecord))]
[JsonSerializable(typeof(EventRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, bool>))]
[JsonSerializable(typeof(Dictionary<string, int[]>))]
public sealed partial class ImportJsonContext : JsonSerializerContext;
