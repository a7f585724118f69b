using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Heartbeat.Server.Logging;

// The heartbeat log's open file. Opened with O_APPEND, so every write lands at the end of the file as it is
// then: after logrotate's copytruncate the next line starts at 0 instead of leaving a hole of NUL bytes
// (.NET's FileMode.Append only seeks to the end once, at open). A write either goes in whole or is taken
// back, so the file always ends with a whole line.
internal sealed partial class LogFile : IDisposable
{
    private const int Interrupted = 4; // EINTR, on Linux and macOS alike

    private readonly SafeFileHandle _handle;
    private readonly bool _seekable;

    // Set when the file ends in the middle of a line (a crash mid-write, a failed take-back): the next write starts a new one.
    private bool _endsMidLine;

    private LogFile(SafeFileHandle handle, bool seekable, bool endsMidLine)
    {
        _handle = handle;
        _seekable = seekable;
        _endsMidLine = endsMidLine;
    }

    // Standard output, for "-": written the same way, never checked or taken back (it may be a pipe).
    public static LogFile StandardOutput() => new(new SafeFileHandle(1, ownsHandle: false), seekable: false, endsMidLine: false);

    // Opens the file for appending, creating it if needed; failures are .NET's own exceptions, which name the cause.
    public static LogFile Open(string path)
    {
        // .NET creates the file (mode 0666 less the umask) and reports a missing directory, a directory or a
        // refused permission in its usual exception types; the O_APPEND descriptor is opened on what it made.
        using (File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
        }

        var descriptor = Native.Open(path, Native.WriteOnlyAppend);
        if (descriptor < 0)
        {
            throw Native.Error(path);
        }

        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        var seekable = IsSeekable(handle); // a named pipe, say, has no length to check or take back
        return new LogFile(handle, seekable, seekable && EndsMidLine(path));
    }

    // Bytes in the file now (which copytruncate may have made fewer than were written); 0 for standard output.
    public long Length => _seekable ? RandomAccess.GetLength(_handle) : 0;

    // Whether the file at path is still this one, rather than gone (deleted, or moved away
    // by logrotate) or another file (logrotate's create). Told by length, which needs no per-platform stat
    // structure: a file of another length cannot be this one, and one of the same length is taken to be.
    // Another file of the same length (rare: logrotate's create makes an empty one, and notifempty keeps ours
    // from being empty) is told apart at the next check, once this one has grown.
    public bool IsAt(string path)
    {
        if (!_seekable)
        {
            return true;
        }

        var atPath = new FileInfo(path);
        return atPath.Exists && atPath.Length == Length;
    }

    // Throws (an IOException saying the disk is full) unless the file system of path has room for bytes more.
    public static void EnsureRoom(string path, int bytes)
    {
        // A scratch file beside the log, preallocated: .NET turns fallocate's ENOSPC into an IOException, and the
        // file is gone again when closed.
        using var probe = File.OpenHandle(
            path + ".probe", FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose, preallocationSize: Math.Max(bytes, 4096));
    }

    // Appends the bytes, all or none; with sync, also onto the disk.
    public void Append(ReadOnlySpan<byte> bytes, bool sync)
    {
        long written = 0;
        try
        {
            if (_endsMidLine)
            {
                WriteAll("\n"u8, ref written);
            }

            WriteAll(bytes, ref written);
            if (sync && _seekable)
            {
                RandomAccess.FlushToDisk(_handle);
            }

            _endsMidLine = false;
        }
        catch (IOException) when (written > 0 && _seekable)
        {
            TakeBack(written);
            throw;
        }
    }

    public void Dispose() => _handle.Dispose();

    private static bool EndsMidLine(string path)
    {
        try
        {
            using var reader = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(reader);
            Span<byte> last = stackalloc byte[1];
            return length > 0 && RandomAccess.Read(reader, last, length - 1) == 1 && last[0] != (byte)'\n';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // a log we may append to but not read: nothing to go by
        }
    }

    private static bool IsSeekable(SafeFileHandle handle)
    {
        try
        {
            RandomAccess.GetLength(handle);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }

    // write(2) until all is written; written counts what went in, also when it fails.
    private void WriteAll(ReadOnlySpan<byte> bytes, ref long written)
    {
        while (bytes.Length > 0)
        {
            // A full disk takes what fits and then fails: the loop sees the short write, then the error.
            var count = Native.Write(_handle, bytes, (nuint)bytes.Length);
            if (count < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == Interrupted)
                {
                    continue;
                }

                throw new IOException(Marshal.GetPInvokeErrorMessage(error));
            }

            written += count;
            bytes = bytes[(int)count..];
        }
    }

    // Cuts off what a failed append left, so that a refused beat leaves no line, whole or torn.
    private void TakeBack(long written)
    {
        try
        {
            RandomAccess.SetLength(_handle, Math.Max(0, RandomAccess.GetLength(_handle) - written));
        }
        catch (IOException)
        {
            _endsMidLine = true; // the torn line stays, but the next one starts on a line of its own
        }
    }

    private static partial class Native
    {
        // O_WRONLY | O_APPEND | O_CLOEXEC; the values differ between Linux and macOS.
        public static readonly int WriteOnlyAppend = OperatingSystem.IsMacOS() ? 0x1 | 0x8 | 0x1000000 : 0x1 | 0x400 | 0x80000;

        public static IOException Error(string path)
        {
            var error = Marshal.GetLastPInvokeError();
            return new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        // open(2) is variadic; called without the mode argument (no O_CREAT), its fixed part is all there is.
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        public static partial nint Write(SafeFileHandle descriptor, ReadOnlySpan<byte> buffer, nuint count);
    }
}
