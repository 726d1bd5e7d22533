namespace Ranking.Crm;

/// <summary>
/// A dense table of float features: <see cref="RowCount"/> rows by <see cref="ColumnCount"/> named columns, stored
/// row-major in one array (struct-of-arrays would suit column scans, but every consumer here reads whole rows).
/// </summary>
/// <remarks>
/// NaN is allowed and means "missing": the LightGBM learners route it down the tree's default branch. Column names
/// are unique and case-sensitive. The matrix is immutable; the derived matrices (<see cref="SelectRows"/>,
/// <see cref="AppendColumn(string, float)"/>) are copies.
/// </remarks>
public sealed class FeatureMatrix
{
    private readonly float[] _values;
    private readonly string[] _columnNames;

    /// <param name="columnNames">At least one name, no duplicates, none empty.</param>
    /// <param name="values">Row-major values; the length must be a multiple of the column count (zero rows is allowed).
    /// The array is taken, not copied.</param>
    /// <exception cref="ArgumentException">No columns, an empty or duplicate name, or a length that is not a whole number of rows.</exception>
    public FeatureMatrix(IReadOnlyList<string> columnNames, float[] values)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(values);
        if (columnNames.Count == 0)
        {
            throw new ArgumentException("A feature matrix needs at least one column.", nameof(columnNames));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in columnNames)
        {
            if (string.IsNullOrWhiteSpace(name) || !seen.Add(name))
            {
                throw new ArgumentException($"Column names must be non-empty and unique; '{name}' is not.", nameof(columnNames));
            }
        }

        if (values.Length % columnNames.Count != 0)
        {
            throw new ArgumentException(
                $"{values.Length} values are not a whole number of rows of {columnNames.Count} columns.", nameof(values));
        }

        _columnNames = [.. columnNames];
        _values = values;
        RowCount = values.Length / columnNames.Count;
    }

    public int RowCount { get; }

    public int ColumnCount => _columnNames.Length;

    public IReadOnlyList<string> ColumnNames => _columnNames;

    /// <summary>All values, row-major.</summary>
    public ReadOnlySpan<float> Values => _values;

    public float this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(column);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, ColumnCount);
            return Row(row)[column];
        }
    }

    /// <summary>A matrix from jagged rows, each of <paramref name="columnNames"/>.Count values.</summary>
    /// <exception cref="ArgumentException">A row of another length.</exception>
    public static FeatureMatrix FromRows(IReadOnlyList<string> columnNames, IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(rows);
        var columns = columnNames.Count;
        var values = new float[rows.Count * columns];
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r] is not { } row || row.Length != columns)
            {
                throw new ArgumentException($"Row {r} does not have {columns} values.", nameof(rows));
            }

            row.CopyTo(values.AsSpan(r * columns, columns));
        }

        return new FeatureMatrix(columnNames, values);
    }

    /// <exception cref="ArgumentOutOfRangeException">The row is outside [0, <see cref="RowCount"/>).</exception>
    public ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, RowCount);
        return _values.AsSpan(row * ColumnCount, ColumnCount);
    }

    /// <summary>The index of a column by name, or -1.</summary>
    public int IndexOf(string columnName) => Array.IndexOf(_columnNames, columnName);

    /// <summary>A copy holding the given rows in the given order (repeats allowed; empty gives zero rows).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row index outside the matrix.</exception>
    public FeatureMatrix SelectRows(ReadOnlySpan<int> rows)
    {
        var columns = ColumnCount;
        var values = new float[rows.Length * columns];
        for (var i = 0; i < rows.Length; i++)
        {
            Row(rows[i]).CopyTo(values.AsSpan(i * columns, columns));
        }

        return new FeatureMatrix(_columnNames, values);
    }

    /// <summary>A copy with one more column, holding <paramref name="value"/> in every row.</summary>
    /// <exception cref="ArgumentException">The name is empty or already taken.</exception>
    public FeatureMatrix AppendColumn(string name, float value)
    {
        var column = new float[RowCount];
        column.AsSpan().Fill(value);
        return AppendColumn(name, column);
    }

    /// <summary>A copy with one more column holding <paramref name="values"/> (one per row).</summary>
    /// <exception cref="ArgumentException">The name is empty or taken, or the values are not one per row.</exception>
    public FeatureMatrix AppendColumn(string name, ReadOnlySpan<float> values)
    {
        if (values.Length != RowCount)
        {
            throw new ArgumentException($"{values.Length} values for {RowCount} rows.", nameof(values));
        }

        var columns = ColumnCount;
        var wider = new float[RowCount * (columns + 1)];
        for (var r = 0; r < RowCount; r++)
        {
            var target = wider.AsSpan(r * (columns + 1), columns + 1);
            _values.AsSpan(r * columns, columns).CopyTo(target);
            target[columns] = values[r];
        }

        return new FeatureMatrix([.. _columnNames, name], wider);
    }
}
