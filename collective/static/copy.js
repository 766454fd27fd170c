// Copy buttons: a button with data-copy="ID" copies the value of the input with that id.
// The buttons start hidden and show only when this script runs. A read-only input.copy
// selects its whole text on focus, for copying by hand (here, not in an onfocus attribute:
// the Content-Security-Policy allows no inline handlers).
(function () {
  document.querySelectorAll('input.copy[readonly]').forEach(function (input) {
    input.addEventListener('focus', function () { input.select(); });
  });
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var input = document.getElementById(button.getAttribute('data-copy'));
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener('click', function () {
      input.focus();
      input.select();
      var done = function () { button.textContent = 'Copied'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          document.execCommand('copy');
          done();
        });
      } else {
        document.execCommand('copy');
        done();
      }
    });
  });
})();
