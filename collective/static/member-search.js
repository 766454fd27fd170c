// Member and client search boxes: an input with data-member-search="URL" and a <datalist>
// of suggestions. As one types, the suggestions come from the URL (?q=..., JSON
// {"members": [{"label": "Maria Santos #12"}, ...]}, or "clients", at most 20). Without
// this script the form still works: the page resolves a typed name itself and offers the
// matches.
(function () {
  if (window.memberSearchReady) {
    return;
  }
  window.memberSearchReady = true;
  document.querySelectorAll('input[data-member-search]').forEach(function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    var url = input.getAttribute('data-member-search');
    var timer = null;
    var asked = '';
    if (!list || !url) {
      return;
    }
    var fill = function (members) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      members.forEach(function (member) {
        var option = document.createElement('option');
        option.value = member.label;
        list.appendChild(option);
      });
    };
    var search = function () {
      var text = input.value.trim();
      if (text.length < 2 || text === asked || /#[0-9]+$/.test(text)) {
        return;
      }
      asked = text;
      var sep = url.indexOf('?') === -1 ? '?' : '&';
      fetch(url + sep + 'q=' + encodeURIComponent(text), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      }).then(function (response) {
        return response.ok ? response.json() : {};
      }).then(function (found) {
        if (input.value.trim() === text) {
          fill(found.members || found.clients || []);
        }
      }).catch(function () {});
    };
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
  });
})();
