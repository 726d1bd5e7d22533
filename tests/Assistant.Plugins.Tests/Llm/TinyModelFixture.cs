using Assistant.Plugins.Llm;

namespace Assistant.Plugins.Tests.Llm;

/// <summary>One <see cref="LocalLlamaChatClient"/> on the tiny model for a test class, loaded on first use so that a missing model skips.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly Lazy<LocalLlamaChatClient> _client = new(() => new LocalLlamaChatClient(TinyModel.Options(TinyModel.RequirePath())));

    /// <summary>The client; skips the test when the model is absent (fails on CI).</summary>
    public LocalLlamaChatClient Client
    {
        get
        {
            TinyModel.RequirePath();
            return _client.Value;
        }
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
