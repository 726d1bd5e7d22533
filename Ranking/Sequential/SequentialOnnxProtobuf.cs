using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Ranking.Sequential;

/// <summary>
/// Just enough of the protobuf wire format to write an ONNX model: varints, length-delimited fields and fixed32
/// floats. Field numbers are those of the public onnx.proto3; nothing is read back. Writing the handful of messages
/// by hand keeps the export free of a protobuf package (and of the version pins one would bring).
/// </summary>
internal sealed class SequentialOnnxProtobuf
{
    private const int VarintType = 0;
    private const int LengthType = 2;
    private const int Fixed32Type = 5;

    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public SequentialOnnxProtobuf Int(int field, long value)
    {
        Tag(field, VarintType);
        Varint(unchecked((ulong)value));
        return this;
    }

    public SequentialOnnxProtobuf Float(int field, float value)
    {
        Tag(field, Fixed32Type);
        var span = _buffer.GetSpan(4);
        BitConverter.TryWriteBytes(span, value);
        _buffer.Advance(4);
        return this;
    }

    public SequentialOnnxProtobuf String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public SequentialOnnxProtobuf Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthType);
        Varint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    public SequentialOnnxProtobuf Message(int field, SequentialOnnxProtobuf message) => Bytes(field, message.WrittenSpan);

    /// <summary>A TensorProto (dims 1, data_type 2, name 8, raw_data 9) holding little-endian values.</summary>
    public static SequentialOnnxProtobuf Tensor<T>(string name, ReadOnlySpan<T> values, ReadOnlySpan<long> dims)
        where T : unmanaged
    {
        var tensor = new SequentialOnnxProtobuf();
        foreach (var dim in dims)
        {
            tensor.Int(1, dim);
        }

        tensor.Int(2, ElementType<T>());
        tensor.String(8, name);
        tensor.Bytes(9, MemoryMarshal.AsBytes(values));
        return tensor;
    }

    /// <summary>A ValueInfoProto of a tensor; a null dimension is symbolic (named by <paramref name="symbol"/>).</summary>
    public static SequentialOnnxProtobuf ValueInfo(string name, int elementType, ReadOnlySpan<long?> dims, string symbol)
    {
        var shape = new SequentialOnnxProtobuf();
        foreach (var dim in dims)
        {
            var dimension = new SequentialOnnxProtobuf();
            if (dim is { } value)
            {
                dimension.Int(1, value);
            }
            else
            {
                dimension.String(2, symbol);
            }

            shape.Message(1, dimension);
        }

        var tensorType = new SequentialOnnxProtobuf().Int(1, elementType).Message(2, shape);
        var type = new SequentialOnnxProtobuf().Message(1, tensorType);
        return new SequentialOnnxProtobuf().String(1, name).Message(2, type);
    }

    /// <summary>ONNX TensorProto.DataType of a CLR type: FLOAT 1, INT64 7.</summary>
    public static int ElementType<T>()
        where T : unmanaged =>
        typeof(T) == typeof(float) ? 1
        : typeof(T) == typeof(long) ? 7
        : throw new NotSupportedException($"No ONNX element type for {typeof(T)}.");

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        _buffer.Advance(n);
    }
}
