using System.Buffers.Binary;
using System.Text;
using Assistant.Plugins.Llm;
using Ranking.Import.Datasets;

namespace Assistant.Plugins.Tests.Llm;

/// <summary>
/// The tiny real model of the LLM tests (Karpathy's stories260K, 1.2 MB GGUF, in the shared data folder): skipped when
/// absent locally, a failure when CI is set.
/// </summary>
internal static class TinyModel
{
    public const string Folder = "stories260K-gguf";
    public const string FileName = "stories260K.gguf";

    /// <summary>The model file, or a skip.</summary>
    public static string RequirePath()
    {
        var root = DatasetLocator.Root;
        var path = root is null ? null : Path.Combine(root, Folder, FileName);
        var present = path is not null && File.Exists(path);
        var onCi = Environment.GetEnvironmentVariable("CI") is not null;
        Skip.If(!present && !onCi,
            $"The tiny model {Folder}/{FileName} is not here (data root: {root ?? "not found"}); set {DatasetLocator.EnvironmentVariable} to the shared/data folder to run this test.");
        Assert.True(present,
            $"CI is set but the tiny model {Folder}/{FileName} was not found (data root: {root ?? "not found"}). " +
            $"Set {DatasetLocator.EnvironmentVariable} to the folder that holds the shared data sets.");
        return path!;
    }

    public static LlmOptions Options(string path, int contextSize = 1024, int maxOutputTokens = 128) => new()
    {
        Provider = LlmProvider.Local,
        ModelPath = path,
        ContextSize = contextSize,
        MaxOutputTokens = maxOutputTokens,
        Threads = 2,
        // The tiny model writes about a character a token and closes strings only by chance: short strings and arrays
        // let grammar-forced JSON finish within the allowance.
        JsonMaxStringLength = 24,
        JsonMaxArrayItems = 3,
        // Generous: the tests check behaviour, not speed, and a loaded CI machine must not turn them into timeouts.
        TimeBudgetMs = 60_000,
    };

    /// <summary>
    /// A copy of the model with a <c>tokenizer.chat_template</c> entry (ChatML) added to its GGUF metadata, so that the
    /// chat-template path runs on a real model. The entry goes first and is padded to a multiple of 32 bytes, the GGUF
    /// alignment, so that the tensor infos and data after it stay valid without being parsed.
    /// </summary>
    public static string WriteCopyWithChatTemplate(string path, string directory)
    {
        const string Key = "tokenizer.chat_template";
        const string Template =
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}" +
            "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        var source = File.ReadAllBytes(path);
        Assert.Equal("GGUF"u8.ToArray(), source[..4]);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(4)));

        var key = Encoding.UTF8.GetBytes(Key);
        var fixedLength = 8 + key.Length + 4 + 8;
        var valueLength = Encoding.UTF8.GetByteCount(Template);
        var padding = (32 - ((fixedLength + valueLength) % 32)) % 32;
        var value = Encoding.UTF8.GetBytes(Template + new string(' ', padding));

        using var output = new MemoryStream(source.Length + fixedLength + value.Length);
        using (var writer = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(source, 0, 16); // magic, version, tensor count
            writer.Write(BinaryPrimitives.ReadUInt64LittleEndian(source.AsSpan(16)) + 1); // one more key-value pair
            writer.Write((ulong)key.Length);
            writer.Write(key);
            writer.Write(8u); // GGUF string
            writer.Write((ulong)value.Length);
            writer.Write(value);
            writer.Write(source, 24, source.Length - 24);
        }

        var copy = Path.Combine(directory, "stories260K-chatml.gguf");
        File.WriteAllBytes(copy, output.ToArray());
        return copy;
    }
}
