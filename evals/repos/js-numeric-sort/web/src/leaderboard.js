export function topScores(scores, count = 10) {
  return [...scores].sort().reverse().slice(0, count);
}
