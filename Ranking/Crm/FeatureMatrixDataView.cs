using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ranking.Crm;

/// <summary>
/// A <see cref="FeatureMatrix"/> (and optionally a label per row) seen as an ML.NET <see cref="IDataView"/>: a
/// <c>Features</c> column of fixed-size float vectors and, when labels are given, a <c>Label</c> column (Boolean for
/// binary trainers, Single for regression). Getters copy straight from the matrix, so there is no per-row object or
/// reflection as with <c>LoadFromEnumerable</c>.
/// </summary>
internal sealed class FeatureMatrixDataView : IDataView
{
    public const string FeaturesColumn = "Features";
    public const string LabelColumn = "Label";

    private readonly FeatureMatrix _features;
    private readonly float[]? _labels;
    private readonly bool _booleanLabel;

    /// <param name="labels">One label per row, or null for a view to score.</param>
    /// <param name="booleanLabel">Expose the label as Boolean (label != 0) rather than Single.</param>
    public FeatureMatrixDataView(FeatureMatrix features, float[]? labels = null, bool booleanLabel = false)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (labels is not null && labels.Length != features.RowCount)
        {
            throw new ArgumentException($"{labels.Length} labels for {features.RowCount} rows.", nameof(labels));
        }

        _features = features;
        _labels = labels;
        _booleanLabel = booleanLabel;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, features.ColumnCount));
        if (labels is not null)
        {
            builder.AddColumn(LabelColumn, booleanLabel ? BooleanDataViewType.Instance : NumberDataViewType.Single);
        }

        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _features.RowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    // One cursor is always a valid answer: the caller asked for at most n.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [new Cursor(this, columnsNeeded)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly FeatureMatrixDataView _view;
        private readonly bool[] _active;
        private long _position = -1;

        public Cursor(FeatureMatrixDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            _view = view;
            _active = new bool[view.Schema.Count];
            foreach (var column in columnsNeeded)
            {
                _active[column.Index] = true;
            }
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_position + 1 < _view._features.RowCount)
            {
                _position++;
                return true;
            }

            _position = _view._features.RowCount;
            return false;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw new InvalidOperationException($"The column '{column.Name}' was not requested for this cursor.");
            }

            Delegate getter = column.Index switch
            {
                0 => (ValueGetter<VBuffer<float>>)GetFeatures,
                1 when _view._booleanLabel => (ValueGetter<bool>)((ref bool value) => value = _view._labels![_position] != 0),
                1 => (ValueGetter<float>)((ref float value) => value = _view._labels![_position]),
                _ => throw new ArgumentOutOfRangeException(nameof(column), column.Name, "No such column."),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"The column '{column.Name}' is not of type {typeof(TValue).Name}.");
        }

        private void GetFeatures(ref VBuffer<float> value)
        {
            var row = _view._features.Row((int)_position);
            var editor = VBufferEditor.Create(ref value, row.Length);
            row.CopyTo(editor.Values);
            value = editor.Commit();
        }
    }
}
