using System.Runtime.InteropServices;
using System.Text;

namespace Ranking.Candidates;

/// <summary>
/// The binary artifact format every generator saves to: a magic, the kind and format version of the model, the size
/// of the item index space, then the model's own fields (arrays written raw, little-endian). A file of another
/// kind or version, or a truncated one, is refused with <see cref="InvalidDataException"/>.
/// </summary>
public sealed class ArtifactWriter : IDisposable
{
    internal const uint Magic = 0x41535441; // "ASTA"
    private readonly BinaryWriter _writer;

    public ArtifactWriter(Stream stream, string kind, int version, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        _writer.Write(Magic);
        _writer.Write(kind);
        _writer.Write(version);
        _writer.Write(itemCount);
    }

    public void Write(int value) => _writer.Write(value);

    public void Write(long value) => _writer.Write(value);

    public void Write(float value) => _writer.Write(value);

    public void Write(double value) => _writer.Write(value);

    public void Write(string value) => _writer.Write(value);

    public void Write(bool value) => _writer.Write(value);

    /// <summary>Writes the length and then the raw elements.</summary>
    public void WriteArray<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        _writer.Write(values.Length);
        _writer.Write(MemoryMarshal.AsBytes(values));
    }

    public void WriteStrings(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _writer.Write(values.Count);
        foreach (var v in values)
        {
            _writer.Write(v);
        }
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>Reads what <see cref="ArtifactWriter"/> wrote; see there for the format.</summary>
public sealed class ArtifactReader : IDisposable
{
    private readonly BinaryReader _reader;

    /// <exception cref="InvalidDataException">Not an artifact, another kind, or another version.</exception>
    public ArtifactReader(Stream stream, string kind, int version)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (_reader.ReadUInt32() != ArtifactWriter.Magic)
            {
                throw new InvalidDataException("Not a model artifact (bad magic number).");
            }

            var actualKind = _reader.ReadString();
            if (actualKind != kind)
            {
                throw new InvalidDataException($"The artifact holds a '{actualKind}' model, not '{kind}'.");
            }

            var actualVersion = _reader.ReadInt32();
            if (actualVersion != version)
            {
                throw new InvalidDataException($"The '{kind}' artifact has format version {actualVersion}; this build reads {version}.");
            }

            ItemCount = _reader.ReadInt32();
            if (ItemCount < 0)
            {
                throw new InvalidDataException("The artifact's item count is negative.");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The artifact is truncated.", e);
        }
    }

    public int ItemCount { get; }

    public int ReadInt32() => Guard(() => _reader.ReadInt32());

    public long ReadInt64() => Guard(() => _reader.ReadInt64());

    public float ReadSingle() => Guard(() => _reader.ReadSingle());

    public double ReadDouble() => Guard(() => _reader.ReadDouble());

    public string ReadString() => Guard(() => _reader.ReadString());

    public bool ReadBoolean() => Guard(() => _reader.ReadBoolean());

    public T[] ReadArray<T>()
        where T : unmanaged
    {
        var length = ReadInt32();
        var size = Marshal.SizeOf<T>();
        if (length < 0 || (long)length * size > _reader.BaseStream.Length - _reader.BaseStream.Position)
        {
            throw new InvalidDataException($"The artifact declares an array of {length} elements that it does not hold.");
        }

        var values = new T[length];
        _reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    public string[] ReadStrings()
    {
        var count = ReadInt32();
        if (count < 0)
        {
            throw new InvalidDataException("Negative string count.");
        }

        var values = new string[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = ReadString();
        }

        return values;
    }

    public void Dispose() => _reader.Dispose();

    private static T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The artifact is truncated.", e);
        }
    }
}
