namespace Ranking.Candidates;

/// <summary>Picks the best K of a dense score array with a small min-heap: O(n log k), no sort of the whole array.</summary>
public static class TopKSelector
{
    /// <summary>Sets the score of each listed item to −∞ (indices out of range are ignored).</summary>
    public static void Exclude(Span<float> scores, ReadOnlySpan<int> items)
    {
        foreach (var i in items)
        {
            if ((uint)i < (uint)scores.Length)
            {
                scores[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>The <paramref name="k"/> highest finite scores, best first; ties go to the lower index.</summary>
    public static ScoredItem[] Select(ReadOnlySpan<float> scores, int k)
    {
        var buffer = new ScoredItem[Math.Min(k, scores.Length)];
        var n = Select(scores, buffer);
        return n == buffer.Length ? buffer : buffer[..n];
    }

    /// <summary>Fills <paramref name="best"/> with the highest finite scores, best first.</summary>
    /// <returns>How many were written (fewer than the span's length when fewer items have a finite score).</returns>
    public static int Select(ReadOnlySpan<float> scores, Span<ScoredItem> best)
    {
        var k = best.Length;
        if (k == 0)
        {
            return 0;
        }

        // best[0..count] is a min-heap on (score, -index): the root is the weakest kept item.
        var count = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            if (float.IsNaN(s) || float.IsNegativeInfinity(s))
            {
                continue;
            }

            if (count < k)
            {
                best[count] = new ScoredItem(i, s);
                SiftUp(best, count++);
            }
            else if (s > best[0].Score)
            {
                best[0] = new ScoredItem(i, s);
                SiftDown(best, 0, count);
            }
        }

        // Pop the heap from the weakest: fills the span from the back so it ends best first.
        var written = count;
        for (var end = count - 1; end > 0; end--)
        {
            (best[0], best[end]) = (best[end], best[0]);
            SiftDown(best, 0, end);
        }

        return written;
    }

    // Weaker = lower score, or an equal score with a higher index (so ties keep the lower index).
    private static bool Weaker(in ScoredItem a, in ScoredItem b) => a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item);

    private static void SiftUp(Span<ScoredItem> heap, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Weaker(heap[i], heap[parent]))
            {
                break;
            }

            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<ScoredItem> heap, int i, int count)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= count)
            {
                return;
            }

            var weakest = left;
            var right = left + 1;
            if (right < count && Weaker(heap[right], heap[left]))
            {
                weakest = right;
            }

            if (!Weaker(heap[weakest], heap[i]))
            {
                return;
            }

            (heap[i], heap[weakest]) = (heap[weakest], heap[i]);
            i = weakest;
        }
    }
}
