/** A hand-built encoding with emoji and a Korean particle, shared by alignment and decoding tests. */
import type { Encoding } from "../../../infer/encoding.ts";

// "민수랑 😀 강남역에서 봤어": 민0 수1 랑2 ␣3 😀4-5 ␣6 강7 남8 역9 에10 서11 ␣12 봤13 어14.
export const TEXT = "민수랑 😀 강남역에서 봤어";
export const ENC: Encoding = {
  ids: [2, 10, 11, 1, 12, 13, 14, 15, 16, 3],
  tokens: ["[CLS]", "민수", "##랑", "[UNK]", "강남", "##역", "##에서", "봤", "##어", "[SEP]"],
  offsets: [[0, 0], [0, 2], [2, 3], [4, 6], [7, 9], [9, 10], [10, 12], [13, 14], [14, 15], [0, 0]],
  wordIds: [null, 0, 0, 1, 2, 2, 2, 3, 3, null],
  specialTokensMask: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1],
};
