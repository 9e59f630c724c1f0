/** The console page: reads what the server put in the page's meta tags and renders the app. */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { readMeta, useCsrf } from './api';
import { ConsoleApp } from './console-app';

const meta = readMeta();
useCsrf(meta.csrf);
const root = document.getElementById('app');
if (root) render(<ConsoleApp meta={meta} />, root);
