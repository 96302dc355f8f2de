import Glibc
import SimSiamCLI

// Past a file-size limit (`ulimit -f`), writes fail with EFBIG and get a clear
// error naming the file, instead of the process being killed by SIGXFSZ.
signal(SIGXFSZ, SIG_IGN)
SimSiamCommand.runAsMain()
