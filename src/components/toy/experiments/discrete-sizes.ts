/** The grid sizes of the discrete page's experiments (no TF.js here: the page reads them on its main thread). */

/** The grid sizes the page trains: from very coarse to finer than the paper's worst (4096). */
export const DISCRETE_GRID_SIZES = [4, 8, 16, 32, 64, 128, 256, 1024, 4096];

/** The grid sizes of the tangent-gap figure: far past 4096, to find where float32 round-off takes over. */
export const TANGENT_GAP_SIZES = [4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

/**
 * The grid sizes trained again with simulated fp16 targets (the half-precision experiment): one below the
 * paper's turning point, and the two largest of DISCRETE_GRID_SIZES. Each fp16 step costs several times a float32
 * one (every intermediate is rounded by extra kernels), so the sweep is kept short.
 */
export const HALF_GRID_SIZES = [64, 1024, 4096];
