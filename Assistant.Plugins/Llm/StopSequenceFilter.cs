using System.Text;

namespace Assistant.Plugins.Llm;

/// <summary>
/// Cuts streamed text at the first stop sequence, holding back a tail that might be the start of one so that no part
/// of a stop sequence is ever emitted. Also drops the whitespace before the first visible character.
/// </summary>
internal sealed class StopSequenceFilter(IReadOnlyList<string> stopSequences)
{
    private readonly StringBuilder _pending = new();
    private bool _started;

    public bool Stopped { get; private set; }

    /// <summary>The text that can be emitted now; empty while held back or after a stop.</summary>
    public string Push(string piece)
    {
        if (Stopped || piece.Length == 0)
        {
            return "";
        }

        if (!_started)
        {
            piece = piece.TrimStart();
            if (piece.Length == 0)
            {
                return "";
            }

            _started = true;
        }

        _pending.Append(piece);
        var text = _pending.ToString();
        var stopAt = -1;
        foreach (var stop in stopSequences)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt))
            {
                stopAt = at;
            }
        }

        if (stopAt >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return text[..stopAt];
        }

        var hold = 0;
        foreach (var stop in stopSequences)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > hold; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    hold = length;
                    break;
                }
            }
        }

        _pending.Clear().Append(text, text.Length - hold, hold);
        return text[..^hold];
    }

    /// <summary>The held-back tail at the end of generation, which turned out not to be a stop sequence.</summary>
    public string Flush()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        return Stopped ? "" : rest;
    }
}
