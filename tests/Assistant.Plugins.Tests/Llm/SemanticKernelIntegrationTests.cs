using System.ComponentModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;

namespace Assistant.Plugins.Tests.Llm;

/// <summary>The local client under Semantic Kernel: registered as the kernel's IChatClient, calling a real plugin.</summary>
public sealed class SemanticKernelIntegrationTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    [SkippableFact]
    public async Task InvokePromptAsync_RequiredFunctionChoice_RunsThePluginAndAnswers()
    {
        var catalog = new CatalogPlugin();
        var builder = Kernel.CreateBuilder();
        builder.Services.AddChatClient(model.Client).UseKernelFunctionInvocation();
        builder.Plugins.AddFromObject(catalog, "Catalog");
        var kernel = builder.Build();
        // The tiny model's choice between calling and answering is the grammar's and the seed's, so the first turn is
        // made to call; the invocation loop then lets it answer.
        var settings = new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Required() };

        var result = await kernel.InvokePromptAsync("Find trail running shoes.", new KernelArguments(settings));

        Assert.True(catalog.Calls >= 1, "the plugin did not run");
        Assert.False(string.IsNullOrWhiteSpace(result.ToString()));
    }

    public sealed class CatalogPlugin
    {
        private int _calls;

        public int Calls => _calls;

        [KernelFunction("search_catalog"), Description("Finds products in the catalog that match a query.")]
        public string Search([Description("What to look for")] string query)
        {
            Interlocked.Increment(ref _calls);
            return $"Trail Runner 2 (item 17) matches '{query}'.";
        }
    }
}
