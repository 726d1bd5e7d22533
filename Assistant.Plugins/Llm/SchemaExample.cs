using System.Globalization;
using System.Text.Json;

namespace Assistant.Plugins.Llm;

/// <summary>
/// The smallest document a JSON Schema admits, when one can be built without search: required properties only, the
/// fewest array items, the first <c>enum</c> value or <c>anyOf</c> branch, <c>null</c> wherever it is allowed. Schemas
/// with keywords that would need more (<c>pattern</c>, <c>format</c>, <c>not</c>, ...) give none.
/// </summary>
internal static class SchemaExample
{
    private const int MaxDepth = 32;

    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "pattern", "format", "not", "if", "multipleOf", "uniqueItems", "contains", "prefixItems", "dependentRequired",
        "dependentSchemas", "propertyNames", "patternProperties", "minProperties",
    };

    /// <summary>The document as JSON text, or null when none can be built cheaply.</summary>
    public static string? TryBuild(JsonElement schema)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!TryWrite(schema, schema, writer, 0))
            {
                return null;
            }
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static bool TryWrite(JsonElement schema, JsonElement root, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth)
        {
            return false;
        }

        switch (schema.ValueKind)
        {
            case JsonValueKind.True:
                writer.WriteNullValue();
                return true;
            case JsonValueKind.Object:
                break;
            default:
                return false;
        }

        if (schema.EnumerateObject().Any(p => Unsupported.Contains(p.Name)))
        {
            return false;
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            constant.WriteTo(writer);
            return true;
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                return false;
            }

            values[0].WriteTo(writer);
            return true;
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            return Resolve(root, reference.GetString()) is { } target && TryWrite(target, root, writer, depth + 1);
        }

        foreach (var keyword in (ReadOnlySpan<string>)["anyOf", "oneOf", "allOf"])
        {
            if (schema.TryGetProperty(keyword, out var branches))
            {
                // A failed branch may have written part of itself, so each is tried on its own buffer first.
                if (keyword == "allOf" && branches.GetArrayLength() != 1)
                {
                    return false;
                }

                foreach (var branch in branches.EnumerateArray())
                {
                    if (TryBuild(branch, root, depth + 1) is { } text)
                    {
                        writer.WriteRawValue(text);
                        return true;
                    }
                }

                return false;
            }
        }

        var types = Types(schema);
        if (types.Contains("null"))
        {
            writer.WriteNullValue();
            return true;
        }

        var type = types.Count > 0 ? types[0]
            : schema.TryGetProperty("properties", out _) ? "object"
            : schema.TryGetProperty("items", out _) ? "array"
            : null;
        switch (type)
        {
            case null:
                writer.WriteNullValue();
                return true;
            case "boolean":
                writer.WriteBooleanValue(false);
                return true;
            case "string":
                var minLength = Int(schema, "minLength") ?? 0;
                writer.WriteStringValue(new string('x', minLength));
                return true;
            case "integer" or "number":
                return TryWriteNumber(schema, type == "integer", writer);
            case "array":
                var count = Int(schema, "minItems") ?? 0;
                writer.WriteStartArray();
                if (count > 0)
                {
                    if (!schema.TryGetProperty("items", out var items) || TryBuild(items, root, depth + 1) is not { } item)
                    {
                        return false;
                    }

                    for (var i = 0; i < count; i++)
                    {
                        writer.WriteRawValue(item);
                    }
                }

                writer.WriteEndArray();
                return true;
            case "object":
                writer.WriteStartObject();
                if (schema.TryGetProperty("required", out var required))
                {
                    schema.TryGetProperty("properties", out var properties);
                    foreach (var name in required.EnumerateArray().Select(r => r.GetString() ?? ""))
                    {
                        var propertySchema = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var p) ? p
                            : schema.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind == JsonValueKind.Object ? extra
                            : default;
                        writer.WritePropertyName(name);
                        if (propertySchema.ValueKind == JsonValueKind.Undefined)
                        {
                            writer.WriteNullValue();
                        }
                        else if (!TryWrite(propertySchema, root, writer, depth + 1))
                        {
                            return false;
                        }
                    }
                }

                writer.WriteEndObject();
                return true;
            default:
                return false;
        }
    }

    private static string? TryBuild(JsonElement schema, JsonElement root, int depth)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!TryWrite(schema, root, writer, depth))
            {
                return null;
            }
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static bool TryWriteNumber(JsonElement schema, bool integer, Utf8JsonWriter writer)
    {
        var value = 0.0;
        if (Number(schema, "minimum") is { } minimum && value < minimum)
        {
            value = minimum;
        }

        if (Number(schema, "exclusiveMinimum") is { } exclusiveMinimum && value <= exclusiveMinimum)
        {
            value = integer ? Math.Floor(exclusiveMinimum) + 1 : exclusiveMinimum + 1;
        }

        if (integer)
        {
            value = Math.Ceiling(value);
        }

        if ((Number(schema, "maximum") is { } maximum && value > maximum)
            || (Number(schema, "exclusiveMaximum") is { } exclusiveMaximum && value >= exclusiveMaximum))
        {
            return false;
        }

        writer.WriteRawValue(value.ToString("R", CultureInfo.InvariantCulture));
        return true;
    }

    private static List<string> Types(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return [];
        }

        return type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
            _ => [],
        };
    }

    private static int? Int(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.TryGetInt32(out var number) ? number : null;

    private static double? Number(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    /// <summary>The subschema a local reference (<c>#/$defs/x</c>) points at, or null.</summary>
    private static JsonElement? Resolve(JsonElement root, string? reference)
    {
        if (reference is null || !reference.StartsWith('#'))
        {
            return null;
        }

        var node = root;
        foreach (var raw in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(segment, out var child))
            {
                node = child;
            }
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < node.GetArrayLength())
            {
                node = node[index];
            }
            else
            {
                return null;
            }
        }

        return node;
    }
}
