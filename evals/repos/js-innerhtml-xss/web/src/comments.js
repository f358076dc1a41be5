export function renderComment(list, comment) {
  const item = document.createElement("li");
  item.innerHTML = `<b>${comment.author}</b>: ${comment.text}`;
  list.appendChild(item);
}
