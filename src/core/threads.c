/* Thread pool sizing: n OpenMP threads, and OpenBLAS on one thread so that
 * the only pool is OpenMP's and every GEMM runs inside our own workers
 * (src/nn/conv2d.c says why). */
#include "ic/threads.h"
#include <omp.h>
#include <unistd.h>

void openblas_set_num_threads(int num_threads);

void ic_threads_set(int n) {
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    omp_set_num_threads(n);
    openblas_set_num_threads(1);
}

int ic_threads_get(void) { return omp_get_max_threads(); }
