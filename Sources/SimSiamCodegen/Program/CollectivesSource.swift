/// The C of a library's collectives table (`simsiam_collectives_t`, docs/library-abi.md):
/// the one-process default, the setter, and the helpers that the batch-norm and mean
/// kernels and the training step call. The library links no MPI: the runtime installs a
/// table whose functions call it (docs/mpi.md).
enum CollectivesSource {
    static func source(scalar t: String) -> String {
        """
        /* ===== Collectives (data-parallel runs, docs/mpi.md) ===== */

        /* One process: world_size 1, and no function of the table is ever called, so a
           library computes exactly what it computes without the table. */
        static const simsiam_collectives_t one_process = {1, 0, 0, 0, 0, 0, 0};
        static simsiam_collectives_t collectives = {1, 0, 0, 0, 0, 0, 0};

        void simsiam_set_collectives(const simsiam_collectives_t* table) {
          collectives = table && table->world_size > 1 ? *table : one_process;
        }

        /* Whether other ranks train on other shards of the batch: batch statistics, the
           loss's batch mean and the gradients are then summed over every rank. */
        static inline int ranks_share_batch(void) { return collectives.world_size > 1; }

        /* Sums sums[0 .. 2C) (two per-channel sums of a batch norm) and the count of values
           per channel over every rank, in place; returns the count over all ranks' batches. */
        static double sum_channels_over_ranks(double* sums, int64_t C, double count) {
          sums[2 * C] = count;
          collectives.sum_f64(collectives.context, sums, 2 * C + 1);
          return sums[2 * C];
        }

        /* Sums n doubles over every rank, in place (the loss's batch mean). */
        static void sum_over_ranks(double* values, int64_t n) { collectives.sum_f64(collectives.context, values, n); }

        /* Gradient sums run in buckets, started while backward still computes earlier
           layers; between kernels they are given a chance to progress, and the SGD update
           waits for all of them, so every rank applies the same update. */
        static void start_gradient_sum(\(t)* grad, int64_t n) {
          if (ranks_share_batch()) collectives.start_sum(collectives.context, grad, n, sizeof(\(t)));
        }
        static inline void progress_gradient_sums(void) {
          if (ranks_share_batch()) collectives.progress(collectives.context);
        }
        static void finish_gradient_sums(void) {
          if (ranks_share_batch()) collectives.finish_sums(collectives.context);
        }

        """
    }
}
