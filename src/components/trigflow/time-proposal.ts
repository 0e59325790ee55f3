/**
 * The training-time proposal of sCM (Alg. 1, §4.2, App. C): log-normal on EDM's σ,
 *   τ ~ N(P_mean, P_std²),  σ = e^τ,  t = arctan(σ/σd) = arctan(e^τ/σd).
 * Forgetting the 1/σd, or sampling t uniformly, are classic mistakes (Alg. 1).
 */
import type { Rng } from "../math/rng.js";
import { SIGMA_D } from "./trigflow.js";

export interface TimeProposal {
  pMean: number;
  pStd: number;
}

/** CIFAR-10 sCT and sCD settings (App. G.2). */
export const SCM_CIFAR10_PROPOSAL: TimeProposal = { pMean: -1.0, pStd: 1.4 };

/** t from a standard normal draw ξ: τ = P_mean + P_std·ξ. */
export function timeFromStandardNormal(xi: number, proposal: TimeProposal, sigmaD = SIGMA_D): number {
  return Math.atan(Math.exp(proposal.pMean + proposal.pStd * xi) / sigmaD);
}

export function sampleTime(rng: Rng, proposal: TimeProposal, sigmaD = SIGMA_D): number {
  return timeFromStandardNormal(rng.normal(), proposal, sigmaD);
}

/**
 * Density of t under the proposal, for plots: with τ = ln(σd tan t), p(t) = N(τ; P_mean, P_std²)·dτ/dt and
 * dτ/dt = 1/(sin t cos t).
 */
export function timeProposalDensity(t: number, proposal: TimeProposal, sigmaD = SIGMA_D): number {
  const tau = Math.log(sigmaD * Math.tan(t));
  const zScore = (tau - proposal.pMean) / proposal.pStd;
  const normalDensity = Math.exp(-0.5 * zScore * zScore) / (proposal.pStd * Math.sqrt(2 * Math.PI));
  return normalDensity / (Math.sin(t) * Math.cos(t));
}
