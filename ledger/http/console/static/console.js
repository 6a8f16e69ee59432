// The evidence form: dropping a file on the zone puts it in the file input (the form works
// the same without this script: choose a file, or take a photo with the phone's camera).
"use strict";
(function () {
  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("f-evidence");
  if (!zone || !input) return;
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("is-dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () {
      zone.classList.remove("is-dragging");
    });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
    }
  });
})();
