namespace Assistant.Plugins.Llm;

/// <summary>
/// The wall-clock limit of one call (<see cref="LlmOptions.TimeBudgetMs"/>): a token that fires at the limit or at the
/// caller's cancellation, and the translation of the first into a <see cref="TimeoutException"/>.
/// </summary>
internal sealed class TimeBudget : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _callerToken;
    private readonly TimeSpan? _limit;

    public TimeBudget(TimeSpan? limit, CancellationToken callerToken)
    {
        _limit = limit;
        _callerToken = callerToken;
        _source = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        if (limit is { } l)
        {
            _source.CancelAfter(l);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The limit in milliseconds; 0 for none.</summary>
    public int LimitMs => _limit is { } l ? (int)l.TotalMilliseconds : 0;

    /// <summary>Whether the limit, not the caller, ended the call.</summary>
    public bool Expired => _source.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    public TimeoutException Timeout(string what) =>
        new($"{what} took longer than the time budget of {_limit?.TotalMilliseconds:0} ms ({LlmOptions.SectionName}:TimeBudgetMs).");

    /// <summary>Throws when the call was cancelled: <see cref="TimeoutException"/> for the budget, the cancellation otherwise.</summary>
    public void ThrowIfEnded(string what)
    {
        if (Expired)
        {
            throw Timeout(what);
        }

        _callerToken.ThrowIfCancellationRequested();
    }

    public void Dispose() => _source.Dispose();
}
