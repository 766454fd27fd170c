// The wide bar's folded menus (<details class="nav-menu">): one open at a time, and a click
// elsewhere or Escape closes it. Without this script they still open and close by their
// own summary.
(function () {
  var menus = Array.prototype.slice.call(document.querySelectorAll('details.nav-menu'));
  var closeAll = function (except) {
    menus.forEach(function (menu) {
      if (menu !== except) {
        menu.open = false;
      }
    });
  };
  menus.forEach(function (menu) {
    menu.addEventListener('toggle', function () {
      if (menu.open) {
        closeAll(menu);
      }
    });
  });
  document.addEventListener('click', function (event) {
    if (!event.target.closest || !event.target.closest('details.nav-menu')) {
      closeAll(null);
    }
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') {
      var open = menus.filter(function (menu) { return menu.open; });
      closeAll(null);
      if (open.length) {
        open[0].querySelector('summary').focus();
      }
    }
  });
})();
