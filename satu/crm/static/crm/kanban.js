/* Deal kanban: plain HTML5 drag-and-drop; a drop posts the move with htmx.
   A refused move (4xx) is toasted by satu.js and the card snaps back. */
(function () {
  "use strict";

  function setup() {
    var board = document.getElementById("kanban");
    if (!board || !board.dataset.draggable || !window.htmx) { return; }
    var dragged = null;

    board.addEventListener("dragstart", function (ev) {
      var card = ev.target.closest && ev.target.closest(".kanban-card");
      if (!card) { return; }
      dragged = card;
      card.classList.add("dragging");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", card.id);
    });
    board.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
    });
    board.addEventListener("dragover", function (ev) {
      var column = ev.target.closest && ev.target.closest(".kanban-col");
      if (!column || !dragged) { return; }
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    board.addEventListener("dragleave", function (ev) {
      var column = ev.target.closest && ev.target.closest(".kanban-col");
      if (column && !column.contains(ev.relatedTarget)) { column.classList.remove("drop-target"); }
    });
    board.addEventListener("drop", function (ev) {
      var column = ev.target.closest && ev.target.closest(".kanban-col");
      if (!column || !dragged) { return; }
      ev.preventDefault();
      column.classList.remove("drop-target");
      var card = dragged;
      dragged = null;
      var origin = card.parentElement;
      var next = card.nextElementSibling;
      var target = column.querySelector(".kanban-cards");
      if (target === origin) { return; }
      target.insertBefore(card, target.firstChild);
      recount();
      htmx.ajax("POST", card.dataset.moveUrl, {
        source: card,
        swap: "none",
        values: { stage: column.dataset.stage }
      });
      card.addEventListener("htmx:afterRequest", function done(e) {
        card.removeEventListener("htmx:afterRequest", done);
        var xhr = e.detail && e.detail.xhr;
        if (!xhr || xhr.status >= 400) {
          origin.insertBefore(card, next && next.parentElement === origin ? next : null);
          card.classList.add("snapped-back");
          recount();
        }
      });
    });

    function recount() {
      board.querySelectorAll(".kanban-col").forEach(function (col) {
        var n = col.querySelectorAll(".kanban-card").length;
        var badge = col.querySelector("h2 .muted");
        if (badge) { badge.textContent = String(n); }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
