using System.Runtime.CompilerServices;
using System.Text;

namespace Ranking.Experiments;

/// <summary>
/// Deterministic hashing of a user into [0, 1): FNV-1a over the UTF-8 bytes of "namespace:salt:user", then the
/// 64-bit finaliser of MurmurHash3 to spread the bits. The same inputs give the same number on every machine and
/// every run; different salts give independent numbers.
/// </summary>
public static class UserHash
{
    /// <summary>A number in [0, 1) for (purpose, salt, user).</summary>
    public static double Unit(string purpose, string salt, string userId)
    {
        var h = Hash64(purpose, salt, userId);
        // The top 53 bits make an exactly representable double in [0, 1).
        return (h >> 11) * (1.0 / (1UL << 53));
    }

    public static ulong Hash64(string purpose, string salt, string userId)
    {
        var h = 14695981039346656037UL;
        h = Mix(h, purpose);
        h = MixByte(h, (byte)':');
        h = Mix(h, salt);
        h = MixByte(h, (byte)':');
        h = Mix(h, userId);
        return Finalize(h);
    }

    private static ulong Mix(ulong h, string text)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(text.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(text, buffer)] : Encoding.UTF8.GetBytes(text);
        foreach (var b in bytes)
        {
            h = MixByte(h, b);
        }

        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MixByte(ulong h, byte b) => (h ^ b) * 1099511628211UL;

    private static ulong Finalize(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
