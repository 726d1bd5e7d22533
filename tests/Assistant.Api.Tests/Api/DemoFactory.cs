namespace Assistant.Api.Tests.Api;

/// <summary>
/// A host seeded with a quarter-size demo marketplace (past CRM campaign, running experiment), for class fixtures:
/// each test class that uses it gets its own host and store.
/// </summary>
public sealed class DemoFactory : IDisposable
{
    public AssistantFactory Factory { get; } = new();

    public DemoFactory()
    {
        Factory.Settings["Demo:SeedOnStart"] = "true";
        Factory.Settings["Demo:Scale"] = "0.25";
    }

    public void Dispose() => Factory.Dispose();
}
