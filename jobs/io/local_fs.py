"""Local-disk writes without a forked `chmod` per file, built once by `make setup`.

pyspark ships no native Hadoop library, so Hadoop's local file system sets the permission
of every file and folder it creates by running `chmod` in a child process of the driver
JVM: two or three forks per data file (the file, its checksum, its folder). A day-partitioned
table of a year is 365 files, and on this machine those forks were about three quarters of
a partitioned write's time (a year of ``silver/weather``: 4.7 s, 1.1 s without them).

``NioLocalFileSystem.java`` (beside this module) is Hadoop's ``LocalFileSystem`` with
permissions set through ``java.nio``: same files, same permissions, no child process.
`make setup` compiles it into ``.jars/lakehouse-local-fs.jar`` (git-ignored) with the JDK's
``javac`` against the Hadoop API jar pyspark ships; the session builder puts it on local
drivers' class path for ``file://``. Clusters, EMR and S3A never see it; without the jar
(a machine with a JRE only), local writes work as before, only slower.

Usage: python -m jobs.io.local_fs   (what `make setup` runs)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

JAR_NAME = "lakehouse-local-fs.jar"
FILE_SYSTEM = "lakehouse.hadoop.NioLocalFileSystem"
FILE_CONTEXT = "lakehouse.hadoop.NioLocalFileSystem$Fs"
SOURCE = Path(__file__).with_name("jvm") / "NioLocalFileSystem.java"


def jar_path(jars_folder: Path) -> Path:
    """Where the compiled file system lives beside the resolved jars."""
    return jars_folder / JAR_NAME


def spark_conf(jars_folder: Path) -> dict[str, str]:
    """The driver class path and ``file://`` implementation that use the jar, or nothing
    when it has not been built."""
    jar = jar_path(jars_folder)
    if not jar.is_file():
        return {}
    return {
        "spark.driver.extraClassPath": str(jar),
        "spark.hadoop.fs.file.impl": FILE_SYSTEM,  # Spark's data files
        "spark.hadoop.fs.AbstractFileSystem.file.impl": FILE_CONTEXT,  # Delta's commits
    }


def _hadoop_api_jar() -> Path:
    import pyspark

    found = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    if not found:
        raise RuntimeError("pyspark ships no hadoop-client-api jar to compile against")
    return found[-1]


def make(jars_folder: Path) -> Path:
    """Compile the file system and pack it (under another name first, so a JVM starting
    meanwhile never reads half a jar)."""
    javac = shutil.which("javac")
    if javac is None:
        raise RuntimeError(
            "javac not found: install a JDK (`make setup` installs default-jdk-headless)"
        )
    target = jar_path(jars_folder)
    partial = target.with_suffix(".partial")
    with tempfile.TemporaryDirectory(prefix="local-fs-") as classes:
        done = subprocess.run(
            [javac, "--release", "11", "-nowarn", "-cp", str(_hadoop_api_jar()),
             "-d", classes, str(SOURCE)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"javac failed on {SOURCE}:\n{done.stdout}{done.stderr}")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
            for path in sorted(Path(classes).rglob("*.class")):
                jar.write(path, path.relative_to(classes).as_posix())
    partial.replace(target)
    return target


def main() -> None:
    from jobs.io.session import jars_dir

    print(f"local file system without forks: {make(jars_dir())}")


if __name__ == "__main__":
    main()
