/* simsiam_mpi.c: every MPI call of simsiamc, in one file (docs/mpi.md).

   The runtime compiles this file with mpicc when it runs under an MPI launcher
   (mpirun, srun) with more than one rank, loads it with RTLD_GLOBAL, and hands
   the table `simsiam_mpi_collectives()` returns to every generated library
   (`simsiam_set_collectives`). The generated libraries and the simsiamc
   executable link no MPI. Standard MPI-3 calls only, so it builds against
   Open MPI and MPICH alike. */
#define _POSIX_C_SOURCE 200809L  /* nanosleep under -std=c11 */
#include "simsiam_collectives.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Gradient sums in flight: at most one per bucket of one step. */
#define MAX_PENDING 1024
static MPI_Request pending[MAX_PENDING];
static int pending_count;

/* Time spent inside MPI by the collectives, and what they moved. */
static double blocking_seconds, waiting_seconds, gradient_bytes;

static void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fprintf(stderr, "simsiamc: %s failed: %s\n", call, text);
  MPI_Abort(MPI_COMM_WORLD, 70);
}

static void sum_f64(void* context, double* values, int64_t n) {
  (void)context;
  const double start = MPI_Wtime();
  check(MPI_Allreduce(MPI_IN_PLACE, values, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  blocking_seconds += MPI_Wtime() - start;
}

static void start_sum(void* context, void* values, int64_t n, int64_t scalar_bytes) {
  (void)context;
  const double start = MPI_Wtime();
  if (pending_count == MAX_PENDING) {
    fprintf(stderr, "simsiamc: more than %d gradient sums in flight\n", MAX_PENDING);
    MPI_Abort(MPI_COMM_WORLD, 70);
  }
  MPI_Datatype type = scalar_bytes == 8 ? MPI_DOUBLE : MPI_FLOAT;
  check(MPI_Iallreduce(MPI_IN_PLACE, values, (int)n, type, MPI_SUM, MPI_COMM_WORLD, &pending[pending_count++]),
        "MPI_Iallreduce");
  gradient_bytes += (double)n * (double)scalar_bytes;
  waiting_seconds += MPI_Wtime() - start;
}

/* Open MPI's ob1 transport moves data only inside MPI calls: a test lets the
   started sums go on while the next kernel computes. */
static void progress(void* context) {
  (void)context;
  if (pending_count == 0) return;
  const double start = MPI_Wtime();
  int done = 0;
  check(MPI_Testall(pending_count, pending, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
  if (done) pending_count = 0;
  waiting_seconds += MPI_Wtime() - start;
}

static void finish_sums(void* context) {
  (void)context;
  const double start = MPI_Wtime();
  check(MPI_Waitall(pending_count, pending, MPI_STATUSES_IGNORE), "MPI_Waitall");
  pending_count = 0;
  waiting_seconds += MPI_Wtime() - start;
}

static simsiam_collectives_t table = {1, 0, 0, sum_f64, start_sum, progress, finish_sums};

/* Initialises MPI (once); returns 0, or the MPI error code. */
int simsiam_mpi_init(void) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    /* Calls come from one thread at a time, not always the same one. */
    int provided = 0;
    const int code = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (code != MPI_SUCCESS) return code;
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  table.rank = rank;
  table.world_size = size;
  return 0;
}

const simsiam_collectives_t* simsiam_mpi_collectives(void) { return &table; }

/* A barrier that sleeps while it waits, so ranks waiting for rank 0 (evaluation,
   checkpoints) leave the cores to it instead of spinning. */
void simsiam_mpi_barrier(void) {
  MPI_Request request;
  check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  int done = 0;
  const struct timespec pause = {0, 2000000};
  for (;;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    nanosleep(&pause, NULL);
  }
}

/* Copies `bytes` bytes at `data` from rank `root` to every rank. */
void simsiam_mpi_broadcast(void* data, int64_t bytes, int64_t root) {
  char* cursor = data;
  /* MPI counts are int: large tensors go in pieces of 1 GiB. */
  while (bytes > 0) {
    const int piece = bytes > (1 << 30) ? (1 << 30) : (int)bytes;
    check(MPI_Bcast(cursor, piece, MPI_BYTE, (int)root, MPI_COMM_WORLD), "MPI_Bcast");
    cursor += piece;
    bytes -= piece;
  }
}

/* Sums of int64 values over all ranks (agreement on flags such as an interrupt). */
void simsiam_mpi_sum_i64(int64_t* values, int64_t n) {
  check(MPI_Allreduce(MPI_IN_PLACE, values, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
}

/* How many ranks hold other bytes than rank 0 at `data` (0: bit-identical on every
   rank), compared through a 64-bit FNV-1a hash; *hash gets this rank's hash. */
int64_t simsiam_mpi_ranks_differing(const void* data, int64_t bytes, uint64_t* hash) {
  uint64_t h = 14695981039346656037ull;
  const unsigned char* p = data;
  for (int64_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 1099511628211ull;
  uint64_t lead = h;
  check(MPI_Bcast(&lead, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  int64_t differs = lead != h;
  check(MPI_Allreduce(MPI_IN_PLACE, &differs, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  *hash = h;
  return differs;
}

/* seconds[0]: in blocking sums (batch norm, loss); [1]: starting, polling and
   waiting for gradient sums; [2]: bytes of gradient sums started. */
void simsiam_mpi_statistics(double* values) {
  values[0] = blocking_seconds;
  values[1] = waiting_seconds;
  values[2] = gradient_bytes;
}

void simsiam_mpi_reset_statistics(void) { blocking_seconds = waiting_seconds = gradient_bytes = 0; }

/* Ends every rank of the job (after an error on this one). */
void simsiam_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void simsiam_mpi_finalize(void) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}
