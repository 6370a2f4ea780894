import { strict as assert } from 'assert';
import { colourFor, groupedBarFigure, lineBandFigure, translucent } from '../../lib/plots/figures';
import { figureHtml, tableHtml } from '../../lib/plots/display';

describe('plots', () => {
  it('a band is a closed polygon: upper forward then lower backward, before its line', () => {
    const fig = lineBandFigure([{ name: '1', x: [100, 50, 0], mean: [0.9, 0.8, 0.1], lower: [0.85, 0.7, 0.05], upper: [0.95, 0.9, 0.15] }], {
      title: 't',
      xTitle: 'density',
      yTitle: 'acc',
      xReversed: true,
      source: 'profile smoke',
    });
    assert.equal(fig.data.length, 2);
    assert.deepEqual(fig.data[0].x, [100, 50, 0, 0, 50, 100]);
    assert.deepEqual(fig.data[0].y, [0.95, 0.9, 0.15, 0.05, 0.7, 0.85]);
    assert.deepEqual(fig.data[1].y, [0.9, 0.8, 0.1]);
    const layout = fig.layout as { xaxis: { autorange: unknown }; annotations: { text: string }[] };
    assert.equal(layout.xaxis.autorange, 'reversed');
    assert.equal(layout.annotations[0].text, 'profile smoke');
  });

  it('widths keep their colours; translucent converts hex', () => {
    assert.equal(colourFor(1), colourFor('1'));
    assert.notEqual(colourFor(0.1), colourFor(5));
    assert.equal(translucent('#ff0080', 0.5), 'rgba(255,0,128,0.5)');
  });

  it('bars carry error bars only when given', () => {
    const fig = groupedBarFigure(
      [
        { name: 'ours', categories: ['0.1'], values: [40], errors: [3] },
        { name: 'paper', categories: ['0.1'], values: [43] },
      ],
      { title: 't', xTitle: 'w', yTitle: 'd' },
    );
    assert.ok('error_y' in fig.data[0]);
    assert.ok(!('error_y' in fig.data[1]));
  });

  it('figure and table HTML escape their content', () => {
    const html = figureHtml({ data: [{ y: [1], name: '</script><b>' }] }, 'fig1');
    assert.ok(!html.includes('</script><b>'));
    assert.match(html, /id="fig1"/);
    const t = tableHtml([{ a: '<x>', b: 1234.5678, c: 1200 }], { digits: 1 });
    assert.match(t, /&lt;x&gt;/);
    assert.match(t, /1234\.6/);
    assert.match(t, /1,200/);
  });
});
