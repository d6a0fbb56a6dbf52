// htmx reports the upload's progress; without JavaScript the form posts as usual.
document.body.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.value = event.detail.loaded / event.detail.total * 100;
  }
});
