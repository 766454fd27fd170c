// Registering: fill the timezone field with the browser's own zone while it still holds the
// form's default. Only a convenience: the page works the same without it.
(function () {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll('input[data-guess="browser"]').forEach(function (input) {
    if (input.value === input.defaultValue) {
      input.value = zone;
    }
  });
})();
