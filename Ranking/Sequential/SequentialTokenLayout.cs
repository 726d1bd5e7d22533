namespace Ranking.Sequential;

/// <summary>
/// How a history becomes the transformer's tokens: the one rule shared by the C# forward pass and the ONNX scorer.
/// </summary>
internal static class SequentialTokenLayout
{
    /// <summary>
    /// Lays out the tokens of a history (events oldest first): walking back from the newest event, events without an
    /// item (negative index, e.g. searches) are skipped and at most <paramref name="maxLength"/> items are kept. The
    /// kept tokens fill the FIRST <c>count</c> slots of the outputs, oldest first (the caller right-aligns them on the
    /// learned positions). Per token: the item index; the action-type row (<see cref="ParameterLayout.TypeRow"/> of
    /// its event type, or row 0 when <paramref name="types"/> is empty); and the time-gap bucket
    /// (<see cref="ParameterLayout.GapBucket"/> of the time since the previous item event, searches skipped; for the
    /// oldest kept token that is the item event just before it, dropped by the length cap; bucket 0 when there is
    /// none or <paramref name="timestamps"/> is empty).
    /// </summary>
    /// <param name="maxLength">The model's MaxLength.</param>
    /// <param name="itemCount">The model's item count: a kept item at or above it is rejected.</param>
    /// <param name="items">Item index per event; negative for events without an item.</param>
    /// <param name="types">Event type code per event, or empty.</param>
    /// <param name="timestamps">Event time (ms) per event, or empty.</param>
    /// <param name="ids">Receives the item indices; at least <c>min(maxLength, items)</c> long.</param>
    /// <param name="typeRows">Receives the action-type rows; empty to skip them.</param>
    /// <param name="gapRows">Receives the time-gap buckets; empty to skip them.</param>
    /// <returns>The number of tokens, 0 when the history has no item (then the outputs are untouched).</returns>
    /// <exception cref="ArgumentException">Types or timestamps neither empty nor as long as the items, or a kept item
    /// ≥ <paramref name="itemCount"/>.</exception>
    internal static int LayOut(
        int maxLength, int itemCount, ReadOnlySpan<int> items, ReadOnlySpan<byte> types, ReadOnlySpan<long> timestamps,
        Span<int> ids, Span<int> typeRows, Span<int> gapRows)
    {
        if ((!types.IsEmpty && types.Length != items.Length) || (!timestamps.IsEmpty && timestamps.Length != items.Length))
        {
            throw new ArgumentException("Types and timestamps must be empty or as long as the items.", nameof(items));
        }

        // Walk back to the oldest kept item (start) and the item event before it (previous), checking the kept items.
        var count = 0;
        var start = -1;
        var previous = -1;
        for (var r = items.Length - 1; r >= 0; r--)
        {
            if (items[r] < 0)
            {
                continue;
            }

            if (count == maxLength)
            {
                previous = r;
                break;
            }

            if (items[r] >= itemCount)
            {
                throw new ArgumentException($"Item {items[r]} is outside the model's {itemCount} items.", nameof(items));
            }

            start = r;
            count++;
        }

        if (count == 0)
        {
            return 0;
        }

        var t = 0;
        for (var r = start; r < items.Length; r++)
        {
            if (items[r] < 0)
            {
                continue;
            }

            ids[t] = items[r];
            if (!typeRows.IsEmpty)
            {
                typeRows[t] = types.IsEmpty ? 0 : ParameterLayout.TypeRow(types[r]);
            }

            if (!gapRows.IsEmpty)
            {
                gapRows[t] = timestamps.IsEmpty || previous < 0 ? 0 : ParameterLayout.GapBucket(timestamps[r] - timestamps[previous]);
            }

            previous = r;
            t++;
        }

        return count;
    }
}
