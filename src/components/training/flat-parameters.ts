/**
 * Parameters as one flat vector. The optimiser and the EMA update every parameter of a network at once, a few
 * kernels in total instead of a few per parameter (fused-adam.ts says why that matters on a GPU); what remains is
 * moving values between the ~150 variables and the vector: a concatenation one way, a slice per variable the other
 * (flat-kernels.ts). FlatParameters keeps the vector between steps so that each direction runs only when it must.
 */
import * as tf from "@tensorflow/tfjs";
import { flatten, unflatten } from "./flat-kernels.js";

type DataId = tf.Tensor["dataId"];

/**
 * A fixed list of variables seen as one vector that is kept between steps. The vector is rebuilt from the
 * variables only when one of them was assigned by someone else since this object last looked: a TF.js variable
 * takes its new value's data id on every assign, so comparing data ids tells, without reading any value.
 * New values can be written at once (`write`) or kept in the vector until someone needs the variables
 * (`defer`, then `sync`): the EMA is read only to sample or save, not at every step.
 */
export class FlatParameters {
  readonly shapes: number[][];
  /** how many values the variables hold together */
  readonly size: number;
  /** the vector, the variables' data ids it agrees with, and whether it holds values not yet written to them */
  private kept: { flat: tf.Tensor1D; ids: DataId[]; unwritten: boolean } | null = null;

  constructor(readonly variables: readonly tf.Variable[]) {
    this.shapes = variables.map((v) => [...v.shape]);
    this.size = variables.reduce((total, v) => total + v.size, 0);
  }

  /**
   * The values as one vector, owned by this object: valid until its next write and not to be disposed. A write
   * from outside (a loaded checkpoint, a restored snapshot) wins over values deferred here.
   */
  values(): tf.Tensor1D {
    if (this.kept && !this.changedOutside()) return this.kept.flat;
    this.forget();
    const flat = tf.keep(flatten(this.variables));
    this.kept = { flat, ids: this.currentIds(), unwritten: false };
    return flat;
  }

  /** Assign `flat` to the variables now. Takes ownership of `flat`. */
  write(flat: tf.Tensor1D): void {
    this.defer(flat);
    this.sync();
  }

  /** Hold `flat` as the new values, written to the variables at the next sync. Takes ownership of `flat`. */
  defer(flat: tf.Tensor1D): void {
    if (flat.size !== this.size) throw new Error(`FlatParameters: a vector of ${flat.size} values for ${this.size} parameters`);
    const ids = this.kept && !this.changedOutside() ? this.kept.ids : this.currentIds();
    this.forget();
    this.kept = { flat: tf.keep(flat), ids, unwritten: true };
  }

  /** Write deferred values to the variables (nothing to do when there are none). */
  sync(): void {
    if (!this.kept?.unwritten) return;
    if (this.changedOutside()) {
      // Someone assigned the variables after the values were deferred: theirs is the newer write.
      this.forget();
      return;
    }
    const { flat } = this.kept;
    tf.tidy(() => unflatten(flat, this.shapes).forEach((value, i) => this.variables[i].assign(value)));
    this.kept = { flat, ids: this.currentIds(), unwritten: false };
  }

  dispose(): void {
    this.forget();
  }

  private forget(): void {
    this.kept?.flat.dispose();
    this.kept = null;
  }

  private currentIds(): DataId[] {
    return this.variables.map((v) => v.dataId);
  }

  private changedOutside(): boolean {
    return this.kept !== null && this.variables.some((v, i) => v.dataId !== this.kept!.ids[i]);
  }
}
