/* Thread count for the whole engine: OpenBLAS threads for GEMM and OpenMP
 * threads for im2col, pooling and element-wise loops.  Never call BLAS from
 * inside an OpenMP parallel region. */
#ifndef IC_THREADS_H
#define IC_THREADS_H

/* Sets both pools to n threads (n <= 0: number of online CPUs). */
void ic_threads_set(int n);
/* Current OpenMP thread count. */
int ic_threads_get(void);

#endif
