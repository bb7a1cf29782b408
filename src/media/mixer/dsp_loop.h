// ATRIUM_DSP_LOOP marks a function that is only a per-sample loop (filter, limiter): clang leaves it out of
// libFuzzer's coverage instrumentation, which otherwise spends most of mixer_fuzz's time counting the loop's
// comparisons (it has no branches worth exploring). No effect on other builds.
#pragma once

#if defined(__clang__)
#define ATRIUM_DSP_LOOP __attribute__((no_sanitize("coverage")))
#else
#define ATRIUM_DSP_LOOP
#endif
