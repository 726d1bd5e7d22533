using Assistant.Plugins.Prompts;

namespace Assistant.Plugins.Tests;

public sealed class PromptLibraryTests
{
    [Fact]
    public async Task GetAsync_RepositoryPrompts_ReadsATemplateWithItsVariables()
    {
        var dir = PromptLibrary.Locate();
        Assert.NotNull(dir);
        var library = new PromptLibrary(dir);

        var text = await library.GetAsync("discovery-explanation");

        Assert.Contains("discovery-explanation", library.Names);
        Assert.Contains("{{$interests}}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_UnknownOrEscapingName_ThrowsWithClearMessage()
    {
        var library = new PromptLibrary(PromptLibrary.Locate()!);

        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => library.GetAsync("no-such-task"));
        await Assert.ThrowsAsync<ArgumentException>(() => library.GetAsync("../secrets"));

        Assert.Contains("discovery-explanation", missing.Message, StringComparison.Ordinal);
        Assert.Throws<DirectoryNotFoundException>(() => new PromptLibrary(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))));
    }
}
