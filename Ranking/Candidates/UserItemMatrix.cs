using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>
/// The user–item matrix of a log: one entry per (user, item) pair holding the sum of the pair's event weights, in
/// compressed sparse rows by user and by item (both with sorted column indices). Events without an item are left
/// out. This is the input of item-kNN, EASE and ALS.
/// </summary>
public sealed class UserItemMatrix
{
    private UserItemMatrix(int users, int items, int[] rowOffsets, int[] columns, float[] values)
    {
        UserCount = users;
        ItemCount = items;
        UserOffsets = rowOffsets;
        UserItems = columns;
        UserValues = values;
        (ItemOffsets, ItemUsers, ItemValues) = Transpose(users, items, rowOffsets, columns, values);
    }

    public int UserCount { get; }

    public int ItemCount { get; }

    /// <summary>Number of stored (user, item) pairs.</summary>
    public int NonZeros => UserItems.Length;

    /// <summary>User u's entries are <c>UserOffsets[u] .. UserOffsets[u + 1]</c> of <see cref="UserItems"/> and <see cref="UserValues"/>.</summary>
    public int[] UserOffsets { get; }

    public int[] UserItems { get; }

    public float[] UserValues { get; }

    /// <summary>Item i's entries are <c>ItemOffsets[i] .. ItemOffsets[i + 1]</c> of <see cref="ItemUsers"/> and <see cref="ItemValues"/>.</summary>
    public int[] ItemOffsets { get; }

    public int[] ItemUsers { get; }

    public float[] ItemValues { get; }

    public ReadOnlySpan<int> ItemsOf(int user) => UserItems.AsSpan(UserOffsets[user], UserOffsets[user + 1] - UserOffsets[user]);

    public ReadOnlySpan<float> ValuesOf(int user) => UserValues.AsSpan(UserOffsets[user], UserOffsets[user + 1] - UserOffsets[user]);

    public ReadOnlySpan<int> UsersOf(int item) => ItemUsers.AsSpan(ItemOffsets[item], ItemOffsets[item + 1] - ItemOffsets[item]);

    public ReadOnlySpan<float> ItemValuesOf(int item) => ItemValues.AsSpan(ItemOffsets[item], ItemOffsets[item + 1] - ItemOffsets[item]);

    /// <summary>Number of users who touched each item.</summary>
    public int ItemDegree(int item) => ItemOffsets[item + 1] - ItemOffsets[item];

    /// <summary>Builds the matrix from a log; <paramref name="binary"/> stores 1 for every pair instead of the weight sum.</summary>
    public static UserItemMatrix From(InteractionLog log, bool binary = false)
    {
        ArgumentNullException.ThrowIfNull(log);
        return From(log.UserCount, log.ItemCount, log.UserOffsets, log.Item, log.Weight, binary);
    }

    /// <summary>
    /// Builds the matrix from rows grouped by user (as an <see cref="InteractionLog"/> holds them): user u owns rows
    /// <c>rowOffsets[u] .. rowOffsets[u + 1]</c> of <paramref name="items"/> and <paramref name="weights"/>.
    /// </summary>
    public static UserItemMatrix From(int userCount, int itemCount, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<int> items, ReadOnlySpan<float> weights, bool binary = false)
    {
        var offsets = new int[userCount + 1];
        var columns = new List<int>(items.Length / 2);
        var values = new List<float>(items.Length / 2);
        var pairs = new List<(int Item, float Weight)>();
        for (var u = 0; u < userCount; u++)
        {
            pairs.Clear();
            for (var r = rowOffsets[u]; r < rowOffsets[u + 1]; r++)
            {
                if (items[r] >= 0)
                {
                    pairs.Add((items[r], weights[r]));
                }
            }

            pairs.Sort(static (a, b) => a.Item.CompareTo(b.Item));
            var k = 0;
            while (k < pairs.Count)
            {
                var item = pairs[k].Item;
                var sum = 0f;
                while (k < pairs.Count && pairs[k].Item == item)
                {
                    sum += pairs[k++].Weight;
                }

                if (sum > 0 || binary)
                {
                    columns.Add(item);
                    values.Add(binary ? 1f : sum);
                }
            }

            offsets[u + 1] = columns.Count;
        }

        return new UserItemMatrix(userCount, itemCount, offsets, [.. columns], [.. values]);
    }

    private static (int[] Offsets, int[] Rows, float[] Values) Transpose(int users, int items, int[] offsets, int[] columns, float[] values)
    {
        var colOffsets = new int[items + 1];
        foreach (var c in columns)
        {
            colOffsets[c + 1]++;
        }

        for (var i = 0; i < items; i++)
        {
            colOffsets[i + 1] += colOffsets[i];
        }

        var cursor = colOffsets.AsSpan(0, items).ToArray();
        var rows = new int[columns.Length];
        var vals = new float[columns.Length];
        for (var u = 0; u < users; u++)
        {
            for (var k = offsets[u]; k < offsets[u + 1]; k++)
            {
                var slot = cursor[columns[k]]++;
                rows[slot] = u;
                vals[slot] = values[k];
            }
        }

        return (colOffsets, rows, vals);
    }
}
