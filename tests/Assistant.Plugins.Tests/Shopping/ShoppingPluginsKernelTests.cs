using Assistant.Plugins.Llm;
using Assistant.Plugins.Shopping;
using Microsoft.SemanticKernel;

namespace Assistant.Plugins.Tests.Shopping;

/// <summary>The four plugins as Semantic Kernel functions: what a model sees of them, and a call through the kernel.</summary>
public sealed class ShoppingPluginsKernelTests
{
    private static ShoppingWorld World => ShoppingWorld.Instance;

    [Fact]
    public async Task KernelFunctions_RegisteredFromObjects_NoUserParameterAndInvokableWithModelArguments()
    {
        using var chat = new OfflineChatClient();
        var kernel = new Kernel();
        var store = World.Store();
        var plugins = new[]
        {
            KernelPluginFactory.CreateFromObject(new UserInterestsPlugin(chat, World.Serving(), store, World.Prompts, World.Time, World.UserId), "Interests"),
            KernelPluginFactory.CreateFromObject(new BrandDiscoveryPlugin(chat, World.Serving(), store, World.Prompts, World.Time, World.UserId), "Brands"),
            KernelPluginFactory.CreateFromObject(new ExplanationsPlugin(chat, World.Serving(), World.Prompts, World.Time, World.UserId), "Explanations"),
            KernelPluginFactory.CreateFromObject(new CrmCopyPlugin(chat, World.Serving(), World.Prompts, World.Time), "Crm"),
        };
        var itemId = World.Catalog.ItemId(1);

        var profile = await plugins[0]["profile_interests"].InvokeAsync(kernel);
        // Arguments as a model writes them: strings, a JSON array.
        var brands = await plugins[1]["suggest_new_brands"].InvokeAsync(kernel, new KernelArguments { ["count"] = "2" });
        var explanation = await plugins[2]["explain_recommendation"].InvokeAsync(kernel, new KernelArguments { ["itemId"] = itemId, ["templateText"] = "Popular now" });
        var copy = await plugins[3]["write_crm_copy"].InvokeAsync(kernel, new KernelArguments { ["itemIds"] = $"[\"{itemId}\"]", ["campaignName"] = "Spring" });

        Assert.Equal(
            ["profile_interests", "suggest_new_brands", "explain_recommendation", "write_crm_copy"],
            plugins.SelectMany(p => p.Select(f => f.Name)));
        Assert.All(plugins.SelectMany(p => p).SelectMany(f => f.Metadata.Parameters), p => Assert.DoesNotContain("user", p.Name, StringComparison.OrdinalIgnoreCase));
        Assert.All(plugins.SelectMany(p => p), f => Assert.False(string.IsNullOrWhiteSpace(f.Description)));
        Assert.NotEmpty(profile.GetValue<InterestProfileOutput>()!.Interests);
        Assert.Equal(2, brands.GetValue<BrandDiscoveryOutput>()!.Brands.Count);
        Assert.Equal("Popular now", explanation.GetValue<ExplanationOutput>()!.Text);
        Assert.Equal([World.CardOf(itemId)], copy.GetValue<CrmCopyOutput>()!.Items);
        Assert.All(store.AskedUsers, u => Assert.Equal(World.UserId, u));
    }
}
