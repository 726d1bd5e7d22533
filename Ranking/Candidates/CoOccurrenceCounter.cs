using System.Runtime.InteropServices;

namespace Ranking.Candidates;

/// <summary>
/// Scores every item's neighbours from <see cref="CoOccurrenceBaskets"/>, in parallel over anchor items with one
/// scratch per worker, and keeps the best <see cref="CoOccurrenceOptions.MaxNeighbours"/> of each as compressed
/// sparse rows. An item's list depends only on the item and the baskets (never on which worker ran it or when),
/// so the result is the same on every run.
/// </summary>
internal static class CoOccurrenceCounter
{
    public static (int[] Offsets, int[] Neighbours, float[] Scores) Count(
        CoOccurrenceBaskets baskets, CoOccurrenceOptions options, CancellationToken cancellationToken)
    {
        var n = baskets.ItemCount;
        var owner = new int[n];
        var start = new int[n];
        var length = new int[n];
        var scratches = new List<Scratch>();
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(
            0,
            n,
            parallel,
            () =>
            {
                lock (scratches)
                {
                    var scratch = new Scratch(baskets, options, scratches.Count);
                    scratches.Add(scratch);
                    return scratch;
                }
            },
            (i, _, scratch) =>
            {
                var (first, count) = scratch.Process(i);
                owner[i] = scratch.Id;
                start[i] = first;
                length[i] = count;
                return scratch;
            },
            static _ => { });

        var offsets = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            offsets[i + 1] = checked(offsets[i] + length[i]);
        }

        var neighbours = new int[offsets[n]];
        var scores = new float[offsets[n]];
        for (var i = 0; i < n; i++)
        {
            if (length[i] == 0)
            {
                continue;
            }

            var scratch = scratches[owner[i]];
            CollectionsMarshal.AsSpan(scratch.ResultItems).Slice(start[i], length[i]).CopyTo(neighbours.AsSpan(offsets[i]));
            CollectionsMarshal.AsSpan(scratch.ResultScores).Slice(start[i], length[i]).CopyTo(scores.AsSpan(offsets[i]));
        }

        return (offsets, neighbours, scores);
    }

    /// <summary>A seeded 64-bit mix of (seed, item, user): Swing's sample order of an item's users.</summary>
    internal static ulong SampleKey(int seed, int item, int user)
    {
        var x = ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)item * 0xC2B2AE3D27D4EB4FUL) ^ ((ulong)(uint)user + 0x165667B19E3779F9UL);
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>One worker's reusable buffers and output. Dense arrays over items are kept all-zero between uses.</summary>
    private sealed class Scratch
    {
        private readonly CoOccurrenceBaskets _baskets;
        private readonly CoOccurrenceMeasure _measure;
        private readonly int _minCount;
        private readonly int _maxNeighbours;
        private readonly int _maxUsers;
        private readonly int _seed;
        private readonly double _alpha;
        private readonly double _shrinkage;

        private readonly int[] _stamp;
        private readonly int[] _cursor;
        private readonly int[] _groupStart;
        private readonly List<int> _touched = [];
        private readonly List<int> _partners = [];
        private readonly List<int> _slotUser = [];
        private readonly List<int> _slotStart = [];
        private readonly List<int> _pairKey = [];
        private readonly List<int> _pairValue = [];
        private readonly List<ScoredItem> _candidates = [];
        private readonly int[] _intersections;
        private int[] _grouped = new int[256];
        private int[] _kept = new int[256];
        private ulong[] _keys = new ulong[256];
        private int _epoch;

        public Scratch(CoOccurrenceBaskets baskets, CoOccurrenceOptions options, int id)
        {
            _baskets = baskets;
            _measure = options.Measure;
            _minCount = options.MinCount;
            _maxNeighbours = options.MaxNeighbours;
            _maxUsers = options.MaxUsersPerItem;
            _seed = options.Seed;
            _alpha = options.SwingAlpha;
            _shrinkage = options.PmiShrinkage;
            Id = id;
            _stamp = new int[baskets.ItemCount];
            _cursor = new int[baskets.ItemCount];
            _groupStart = new int[baskets.ItemCount];
            _intersections = _measure == CoOccurrenceMeasure.Swing ? new int[_maxUsers * _maxUsers] : [];
        }

        public int Id { get; }

        public List<int> ResultItems { get; } = [];

        public List<float> ResultScores { get; } = [];

        /// <summary>Scores item <paramref name="item"/>'s neighbours and appends the best to the results.</summary>
        /// <returns>Where in the results they start, and how many.</returns>
        public (int Start, int Count) Process(int item)
        {
            var first = ResultItems.Count;
            var users = CollectPartnersByUser(item);
            if (users == 0)
            {
                return (first, 0);
            }

            _candidates.Clear();
            if (_measure == CoOccurrenceMeasure.Swing)
            {
                ScoreSwing(item, users);
            }
            else
            {
                ScoreCounts(item);
            }

            var candidates = CollectionsMarshal.AsSpan(_candidates);
            candidates.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
            var keep = Math.Min(_maxNeighbours, candidates.Length);
            for (var k = 0; k < keep; k++)
            {
                ResultItems.Add(candidates[k].Item);
                ResultScores.Add(candidates[k].Score);
            }

            return (first, keep);
        }

        /// <summary>
        /// Fills one slot per user who holds at least one pair with <paramref name="item"/> first: her user index and
        /// her distinct partners (<c>_partners[_slotStart[k] .. _slotStart[k + 1]]</c>), users ascending.
        /// </summary>
        /// <returns>The number of slots.</returns>
        private int CollectPartnersByUser(int item)
        {
            _partners.Clear();
            _slotUser.Clear();
            _slotStart.Clear();
            var from = _baskets.OccurrenceOffsets[item];
            var to = _baskets.OccurrenceOffsets[item + 1];
            var previous = -1;
            for (var o = from; o < to; o++)
            {
                var basket = _baskets.OccurrenceBasket[o];
                var user = _baskets.BasketUser[basket];
                if (user != previous)
                {
                    // Occurrences come by basket and baskets by user: each user's occurrences are contiguous.
                    if (_slotUser.Count > 0 && _slotStart[^1] == _partners.Count)
                    {
                        _slotUser[^1] = user;
                    }
                    else
                    {
                        _slotUser.Add(user);
                        _slotStart.Add(_partners.Count);
                    }

                    _epoch++;
                    previous = user;
                }

                _baskets.CollectPartners(basket, _baskets.OccurrencePosition[o], _stamp, _epoch, _partners);
            }

            if (_slotUser.Count > 0 && _slotStart[^1] == _partners.Count)
            {
                _slotUser.RemoveAt(_slotUser.Count - 1);
                _slotStart.RemoveAt(_slotStart.Count - 1);
            }

            _slotStart.Add(_partners.Count);
            return _slotUser.Count;
        }

        private void ScoreCounts(int item)
        {
            _touched.Clear();
            foreach (var j in _partners)
            {
                if (_cursor[j]++ == 0)
                {
                    _touched.Add(j);
                }
            }

            double total = _baskets.ContributingUsers;
            double itemUsers = _baskets.ItemUsers[item];
            foreach (var j in _touched)
            {
                var count = _cursor[j];
                _cursor[j] = 0;
                if (count < _minCount)
                {
                    continue;
                }

                double score = count;
                if (_measure == CoOccurrenceMeasure.Pmi)
                {
                    score = Math.Log(count * total / (itemUsers * _baskets.ItemUsers[j]));
                    score *= _shrinkage > 0 ? count / (count + _shrinkage) : 1.0;
                }

                // Negative PMI means "together less often than chance": no reason to recommend, so not kept.
                if (score > 0)
                {
                    _candidates.Add(new ScoredItem(j, (float)score));
                }
            }
        }

        private void ScoreSwing(int item, int slots)
        {
            var kept = SampleUsers(item, slots);

            // |I_u ∩ I_v| for every pair of kept users a < b, in the upper triangle of a kept x kept matrix: each item x
            // held by c of them adds one to c(c-1)/2 cells.
            _intersections.AsSpan(0, kept * kept).Clear();
            _pairKey.Clear();
            _pairValue.Clear();
            for (var a = 0; a < kept; a++)
            {
                foreach (var x in _baskets.ItemsOfUser(_slotUser[_kept[a]]))
                {
                    _pairKey.Add(x);
                    _pairValue.Add(a);
                }
            }

            Group();
            foreach (var x in _touched)
            {
                var group = _grouped.AsSpan(_groupStart[x], _cursor[x] - _groupStart[x]);
                _cursor[x] = 0;
                for (var p = 0; p < group.Length; p++)
                {
                    var row = group[p] * kept;
                    for (var q = p + 1; q < group.Length; q++)
                    {
                        _intersections[row + group[q]]++;
                    }
                }
            }

            // Each partner j held by c >= 2 kept users: the sum over their pairs of 1 / (alpha + |I_u ∩ I_v|).
            _pairKey.Clear();
            _pairValue.Clear();
            for (var a = 0; a < kept; a++)
            {
                var slot = _kept[a];
                for (var p = _slotStart[slot]; p < _slotStart[slot + 1]; p++)
                {
                    _pairKey.Add(_partners[p]);
                    _pairValue.Add(a);
                }
            }

            Group();
            var minUsers = Math.Max(2, _minCount);
            foreach (var j in _touched)
            {
                var group = _grouped.AsSpan(_groupStart[j], _cursor[j] - _groupStart[j]);
                _cursor[j] = 0;
                if (group.Length < minUsers)
                {
                    continue;
                }

                var sum = 0.0;
                for (var p = 0; p < group.Length; p++)
                {
                    var row = group[p] * kept;
                    for (var q = p + 1; q < group.Length; q++)
                    {
                        sum += 1.0 / (_alpha + _intersections[row + group[q]]);
                    }
                }

                _candidates.Add(new ScoredItem(j, (float)sum));
            }
        }

        /// <summary>
        /// Fills <c>_kept[0 .. n]</c> with the slots Swing scores, ascending: all of them, or the
        /// <see cref="CoOccurrenceOptions.MaxUsersPerItem"/> with the smallest seeded keys.
        /// </summary>
        private int SampleUsers(int item, int slots)
        {
            if (_kept.Length < slots)
            {
                _kept = new int[Math.Max(slots, _kept.Length * 2)];
                _keys = new ulong[_kept.Length];
            }

            for (var k = 0; k < slots; k++)
            {
                _kept[k] = k;
            }

            if (slots <= _maxUsers)
            {
                return slots;
            }

            for (var k = 0; k < slots; k++)
            {
                _keys[k] = SampleKey(_seed, item, _slotUser[k]);
            }

            _keys.AsSpan(0, slots).Sort(_kept.AsSpan(0, slots));
            _kept.AsSpan(0, _maxUsers).Sort();
            return _maxUsers;
        }

        /// <summary>
        /// Groups the values of (<c>_pairKey</c>, <c>_pairValue</c>) by key, keeping their order: afterwards key x's
        /// values are <c>_grouped[_groupStart[x] .. _cursor[x]]</c> for each x in <c>_touched</c>. The caller sets
        /// <c>_cursor[x]</c> back to 0.
        /// </summary>
        private void Group()
        {
            _touched.Clear();
            var keys = CollectionsMarshal.AsSpan(_pairKey);
            var values = CollectionsMarshal.AsSpan(_pairValue);
            foreach (var x in keys)
            {
                if (_cursor[x]++ == 0)
                {
                    _touched.Add(x);
                }
            }

            var position = 0;
            foreach (var x in _touched)
            {
                _groupStart[x] = position;
                position += _cursor[x];
                _cursor[x] = _groupStart[x];
            }

            if (_grouped.Length < position)
            {
                _grouped = new int[Math.Max(position, _grouped.Length * 2)];
            }

            for (var k = 0; k < keys.Length; k++)
            {
                _grouped[_cursor[keys[k]]++] = values[k];
            }
        }
    }
}
