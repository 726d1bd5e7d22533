using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Assistant.Plugins.Grammar;
using LLama;
using LLama.Common;
using LLama.Native;
using Ranking.Import.Datasets;
using Xunit.Abstractions;

namespace Assistant.Plugins.Tests.Grammar;

internal enum PickMood
{
    Happy,
    Curious,
}

internal sealed record Pick(string ItemId, int Rank, double Score, bool InStock, string? Note = null);

internal sealed record PickList(IReadOnlyList<Pick> Items, string? Summary, PickMood Mood);

internal sealed record Choice(string ItemId, int Count, bool InStock);

public sealed class FromTypeAndModelTests(ITestOutputHelper output)
{
    private const int Seed = 4_242;

    [Fact]
    public void FromType_Record_SamplesDeserializeAndValidate()
    {
        var schema = JsonSchemaGrammar.SchemaOf<PickList>();
        var gbnf = JsonSchemaGrammar.FromType<PickList>();
        var sampler = new GbnfSampler(GbnfGrammar.Parse(gbnf), Seed);
        var validator = new SchemaValidator(schema);
        output.WriteLine($"seed {Seed}\n{schema}\n{gbnf}");
        var withNote = 0;
        var withoutNote = 0;

        for (var i = 0; i < 200; i++)
        {
            var text = sampler.Sample();
            Assert.True(validator.IsValid(text), $"Invalid for the exported schema: {text}");
            var value = JsonSerializer.Deserialize<PickList>(text, JsonSchemaGrammar.SerializerOptions);
            Assert.NotNull(value);
            Assert.All(value.Items, p => Assert.NotNull(p.ItemId));
            using var document = JsonDocument.Parse(text);
            foreach (var item in document.RootElement.GetProperty("items").EnumerateArray())
            {
                _ = item.TryGetProperty("note", out _) ? withNote++ : withoutNote++;
            }
        }

        // Note has a default value, so it is optional: items with and without it both occur.
        Assert.True(withNote > 0 && withoutNote > 0, $"with {withNote}, without {withoutNote}");
    }

    [Fact]
    public void FromType_Record_RequiresConstructorParametersAndUsesCamelCase()
    {
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromType<Pick>()));

        Assert.True(matcher.Matches("{\"itemId\":\"a\",\"rank\":1,\"score\":0.5,\"inStock\":true}"));
        Assert.True(matcher.Matches("{\"itemId\":\"a\",\"rank\":1,\"score\":0.5,\"inStock\":true,\"note\":null}"));
        Assert.False(matcher.Matches("{\"itemId\":\"a\",\"score\":0.5,\"inStock\":true}"));
        Assert.False(matcher.Matches("{\"itemId\":null,\"rank\":1,\"score\":0.5,\"inStock\":true}"));
        Assert.False(matcher.Matches("{\"ItemId\":\"a\",\"Rank\":1,\"Score\":0.5,\"InStock\":true}"));
    }

    [SkippableFact]
    public async Task FromType_RealTinyModel_GeneratesValidGroundedJson()
    {
        var model = TinyModelPath();

        var allowed = new[] { "sku-1", "sku-2", "sku-10" };
        var gbnf = JsonSchemaGrammar.FromType<Choice>(new JsonGrammarOptions
        {
            MaxWhitespace = 0,
            MaxIntegerDigits = 4,
            AllowedValues = new Dictionary<string, IReadOnlyCollection<string>> { ["itemId"] = allowed },
        });
        var parameters = new ModelParams(model) { ContextSize = 256, GpuLayerCount = 0 };
        using var weights = await LLamaWeights.LoadFromFileAsync(parameters);
        var executor = new StatelessExecutor(weights, parameters);
        var inference = new InferenceParams
        {
            MaxTokens = 200,
            SamplingPipeline = new LLama.Sampling.DefaultSamplingPipeline { Grammar = new LLama.Sampling.Grammar(gbnf, "root"), Seed = Seed },
        };

        var text = new StringBuilder();
        await foreach (var piece in executor.InferAsync("Once upon a time, the shop had", inference))
        {
            text.Append(piece);
        }

        var json = text.ToString().Trim();
        output.WriteLine(json);
        Assert.True(new SchemaValidator(JsonSchemaGrammar.SchemaOf<Choice>()).IsValid(json), $"Model output invalid: {json}");
        var choice = JsonSerializer.Deserialize<Choice>(json, JsonSchemaGrammar.SerializerOptions);
        Assert.NotNull(choice);
        Assert.Contains(choice.ItemId, allowed);
    }

    [SkippableFact]
    public async Task LlamaCpp_EveryTableGrammar_Compiles()
    {
        var parameters = new ModelParams(TinyModelPath()) { ContextSize = 64, GpuLayerCount = 0 };
        using var weights = await LLamaWeights.LoadFromFileAsync(parameters);
        var parser = LlamaCppGrammarParser.Find();
        Skip.If(parser is null, "The loaded libllama could not be located to call its grammar parser.");
        var grammars = SchemaCases.All.Select(c => (c.Key, JsonSchemaGrammar.FromSchema(c.Value.Element)))
            .Append(("tool-call", JsonSchemaGrammar.ToolCallGrammar([("get_item", SchemaCases.All["defs-ref"].Element)], SchemaCases.All["enums"].Element)))
            .Append(("from-type", JsonSchemaGrammar.FromType<PickList>()));

        // Controls that llama.cpp must refuse, so that "compiles" is a claim that can fail.
        Assert.False(parser.Compiles(weights, "root ::= undefined-rule\n"));
        Assert.False(parser.Compiles(weights, "root ::= \"a\" (\n"));
        Assert.All(grammars, g => Assert.True(parser.Compiles(weights, g.Item2), $"llama.cpp refuses the grammar of '{g.Item1}':\n{g.Item2}"));
    }

    private static string TinyModelPath()
    {
        var root = DatasetLocator.Root;
        var model = root is null ? null : Path.Combine(root, "stories260K-gguf", "stories260K.gguf");
        var missing = model is null || !File.Exists(model);
        Assert.False(missing && Environment.GetEnvironmentVariable("CI") is not null, "The tiny model is missing in CI.");
        Skip.If(missing, "stories260K.gguf not found under the shared data folder.");
        return model!;
    }
}

/// <summary>
/// Calls llama.cpp's own GBNF parser (<c>llama_sampler_init_grammar</c>, which returns null for a grammar it refuses)
/// in the libllama that LLamaSharp loaded. LLamaSharp's <c>AddGrammar</c> cannot tell: it adds the null sampler.
/// </summary>
internal sealed class LlamaCppGrammarParser
{
    private readonly GetVocab _getVocab;
    private readonly InitGrammar _initGrammar;
    private readonly FreeSampler _freeSampler;

    private LlamaCppGrammarParser(IntPtr library)
    {
        _getVocab = Marshal.GetDelegateForFunctionPointer<GetVocab>(NativeLibrary.GetExport(library, "llama_model_get_vocab"));
        _initGrammar = Marshal.GetDelegateForFunctionPointer<InitGrammar>(NativeLibrary.GetExport(library, "llama_sampler_init_grammar"));
        _freeSampler = Marshal.GetDelegateForFunctionPointer<FreeSampler>(NativeLibrary.GetExport(library, "llama_sampler_free"));
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetVocab(IntPtr model);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr InitGrammar(IntPtr vocab, [MarshalAs(UnmanagedType.LPUTF8Str)] string grammar, [MarshalAs(UnmanagedType.LPUTF8Str)] string root);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void FreeSampler(IntPtr sampler);

    /// <summary>The parser of the libllama loaded in this process; null when none is found.</summary>
    public static LlamaCppGrammarParser? Find()
    {
        using var process = Process.GetCurrentProcess();
        var path = process.Modules.Cast<ProcessModule>()
            .Select(m => m.FileName)
            .FirstOrDefault(f => Path.GetFileName(f) is "libllama.so" or "llama.dll" or "libllama.dylib");
        return path is null ? null : new LlamaCppGrammarParser(NativeLibrary.Load(path));
    }

    public bool Compiles(LLamaWeights weights, string gbnf)
    {
        var vocab = _getVocab(weights.NativeHandle.DangerousGetHandle());
        var sampler = _initGrammar(vocab, gbnf, "root");
        if (sampler == IntPtr.Zero)
        {
            return false;
        }

        _freeSampler(sampler);
        return true;
    }
}
