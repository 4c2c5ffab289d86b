/*
 * Hadoop's local file system, with permissions set through java.nio instead of a forked
 * `chmod`, and a path's link status without a forked `readlink`.
 *
 * Without Hadoop's native library (pyspark ships none), RawLocalFileSystem sets the
 * permission of every file and folder it creates by running `chmod` in a child process:
 * two or three forks of the driver JVM per data file (the file, its .crc, its folder).
 * A year written one file per day is thousands of forks, and they were most of the time
 * a partitioned write took on local disk. Files and folders get the same permissions as
 * before (the requested ones, after the umask); only how they are set changes. Renames
 * through FileContext (each Delta commit: its file, its checksum, their temporary names)
 * ask for link statuses, which Hadoop answers by running `readlink` per path: about a
 * hundred child processes in a one-day run. A path that is no symbolic link has the
 * status Hadoop's own code gives it, from java.nio; a link is still Hadoop's to answer.
 *
 * NioLocalFileSystem is the FileSystem (fs.file.impl: Spark's data files); its Fs is the
 * same for FileContext (fs.AbstractFileSystem.file.impl: Delta's commit files).
 * Used for file:// on local masters (jobs/io/local_fs.py); S3A and EMR never load it.
 */
package lakehouse.hadoop;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFs;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FsConstants;
import org.apache.hadoop.fs.FsServerDefaults;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.local.LocalConfigKeys;
import org.apache.hadoop.fs.permission.FsPermission;

public class NioLocalFileSystem extends LocalFileSystem {
  public NioLocalFileSystem() {
    super(new Raw());
  }

  /** RawLocalFileSystem whose setPermission and getFileLinkStatus make no child process. */
  public static class Raw extends RawLocalFileSystem {
    // Bit i of a POSIX mode, from others' execute (bit 0) to the owner's read (bit 8).
    private static final PosixFilePermission[] BITS = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ,
    };

    @Override
    public void setPermission(Path path, FsPermission permission) throws IOException {
      short mode = permission.toShort();
      Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
      for (int bit = 0; bit < BITS.length; bit++) {
        if ((mode & (1 << bit)) != 0) {
          set.add(BITS[bit]);
        }
      }
      Files.setPosixFilePermissions(pathToFile(path).toPath(), set);
    }

    @Override
    public FileStatus getFileLinkStatus(Path path) throws IOException {
      if (Files.isSymbolicLink(pathToFile(path).toPath())) {
        return super.getFileLinkStatus(path);
      }
      // What Hadoop returns for a file or folder (and FileNotFoundException for neither).
      return getFileStatus(path);
    }
  }

  /** Hadoop's LocalFs (checksummed, for FileContext) over Raw. */
  public static class Fs extends ChecksumFs {
    public Fs(URI uri, Configuration conf) throws IOException, URISyntaxException {
      super(new RawFs(uri, conf));
    }
  }

  /** Hadoop's RawLocalFs over Raw instead of RawLocalFileSystem. */
  static class RawFs extends DelegateToFileSystem {
    RawFs(URI uri, Configuration conf) throws IOException, URISyntaxException {
      super(uri, new Raw(), conf, FsConstants.LOCAL_FS_URI.getScheme(), false);
    }

    @Override
    public int getUriDefaultPort() {
      return -1; // file:/// has no port
    }

    @Override
    @Deprecated
    public FsServerDefaults getServerDefaults() throws IOException {
      return LocalConfigKeys.getServerDefaults();
    }

    @Override
    public FsServerDefaults getServerDefaults(Path path) throws IOException {
      return LocalConfigKeys.getServerDefaults();
    }

    @Override
    public boolean isValidName(String src) {
      return true; // as RawLocalFs: the operating system judges local names
    }
  }
}
