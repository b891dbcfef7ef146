/* Short-time Fourier transform for the front end: periodic Hann window, frames centred
 * with reflect padding (librosa / torch center=True, pad_mode="reflect"), power |X|^2.
 * Not here: phase, inverse STFT, other windows. */
#ifndef IC_STFT_H
#define IC_STFT_H
#include <stddef.h>
#include "ic/fft.h"

/* Periodic Hann window w[i] = 0.5 - 0.5 cos(2 pi i / win_length) (torch.hann_window,
 * librosa "hann"), zero-padded to n_fft and centred: it starts at (n_fft - win_length)/2.
 * out: (n_fft).  Requires 1 <= win_length <= n_fft. */
void ic_hann_window(size_t win_length, size_t n_fft, float *out);

/* Frames for n samples.  center: 1 + n/hop for n >= 1, 0 for n == 0.
 * Not centred: 1 + (n - n_fft)/hop for n >= n_fft, else 0. */
size_t ic_stft_n_frames(size_t n, size_t n_fft, size_t hop, int center);

/* Windowed frame t of x (n samples) -> frame (n_fft).  centre: frame t covers samples
 * t*hop - n_fft/2 .. t*hop + n_fft/2 - 1 of x extended by reflection without repeating
 * the edge sample (x[-1] = x[1]).  When the signal is shorter than the padding the
 * reflection repeats (the even periodic extension, period 2(n-1)), which is what
 * numpy.pad(mode="reflect") and so librosa do; torch refuses such input.  A signal of
 * one sample extends as that constant.  Requires n >= 1 and t < ic_stft_n_frames(). */
void ic_stft_frame(const float *x, size_t n, size_t t, size_t n_fft, size_t hop, int center,
                   const float *window, float *frame);

/* Power spectrum of one windowed frame: frame (n_fft) -> power (n_fft/2 + 1), |X[k]|^2.
 * spec: (n_fft + 2) scratch.  plan made for n_fft. */
void ic_power_spectrum(const ic_fft_plan *plan, const float *frame, float *spec, float *power);

/* Floats of scratch ic_stft_power needs: 2 n_fft + 2. */
size_t ic_stft_work_floats(size_t n_fft);
/* Power spectrogram of x (n) -> out (n_fft/2 + 1, n_frames) row-major: out[k * n_frames + t].
 * window (n_fft) from ic_hann_window; work (ic_stft_work_floats(n_fft)). */
void ic_stft_power(const ic_fft_plan *plan, const float *window, const float *x, size_t n,
                   size_t hop, int center, float *out, float *work);

#endif
