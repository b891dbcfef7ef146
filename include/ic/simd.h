/* IC_VEC_CLONES before a hot loop's function: gcc builds it twice, for
 * x86-64-v3 (AVX2) and for the baseline, and picks one at load time (ifunc),
 * so one binary runs everywhere and uses 8-wide vectors where the CPU has
 * them.  Put it on a plain (not inlined, not OpenMP-outlined) function that
 * holds the loop.  -std=c11 keeps floating-point contraction off, so
 * element-wise loops give identical results in both clones.  A sum must not
 * use `omp simd reduction` there (it would add in the vector width's order,
 * 8 lanes against 4): sum into fixed lanes instead, as batchnorm.c does, so
 * that which clone runs never changes a result (OpenBLAS's own kernels still
 * differ between CPU models). */
#ifndef IC_SIMD_H
#define IC_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define IC_VEC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), noinline))
#else
#define IC_VEC_CLONES
#endif

#endif
