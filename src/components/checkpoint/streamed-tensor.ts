/**
 * One tensor of a checkpoint, handed over as soon as its bytes have arrived. The streamed reader converts
 * every supported dtype to float32 (TF.js has no float16 tensors), and `dtype` records what the file held
 * so that a consumer can report it or check it against what it expects.
 */

/** The dtypes the streamed reader can decode; all become float32 values. */
export type StreamedDtype = "F32" | "F16" | "BF16";

export interface StreamedTensor {
  name: string;
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  values: Float32Array;
}
